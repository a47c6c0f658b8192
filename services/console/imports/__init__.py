"""CSV import of registrations: upload, the report row by row, the rows to fix given back."""
