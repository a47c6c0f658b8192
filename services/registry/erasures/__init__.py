"""The erasure ledger (ids and dates of every erasure, re-applied after a restore) and the
retention of records (people with no activity for the retention period, anonymised)."""
