"""Where template text runs: a Jinja2 sandbox whose work is bounded by what a template may
say, not by a clock.

Templates are written by admins and run for every message, in the consumer's transaction, so
a template must not be able to take the service's memory or time, however it is written
(`{{ 'x' * 10000000 }}`, `{{ 9 ** 9 ** 9 }}`, nested loops over `range`). A timeout would
hold only on a quiet machine and would leave the work done until it fired; instead the
language is made small enough that the work of a render is bounded by the template's length:

- no loops, macros, assignments, `with`, includes or imports (the parsed template is checked
  against the node types below), so nothing runs more than once and no value is reused: an
  expression's value grows only as far as its own text and the operators below allow;
- no functions: no globals (no `range`, `lipsum`, `dict`, ...), a short list of filters that
  never make a text longer than a fixed factor of their input, and only the `str` methods of
  that kind;
- `*`, `**`, `+`, `%` and `~` check the size of what they would make before making it: at most
  `MAX_TEXT` characters and integers of at most `MAX_INT_BITS` bits, and all the text they make
  in one render at most `MAX_MADE` characters (so that many operations, each within its bound,
  cannot add up to much either);
- the output stops at `MAX_TEXT` characters.

Everything refused or failing while rendering is a `RenderError` with a message for the admin.
"""

from __future__ import annotations

import re
import types
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError, meta, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

# The longest text (or sequence) any operation may make, and the longest output: an email of
# a few pages; an SMS is far shorter.
MAX_TEXT = 20_000
# All the text operators may make in one render, whatever they make it of.
MAX_MADE = 5 * MAX_TEXT
# The largest integer an operation may make (about 1,200 decimal digits).
MAX_INT_BITS = 4096
# Widths and precisions of `%` formatting larger than this are refused.
MAX_FORMAT_WIDTH = 1_000


class RenderError(Exception):
    """A template that cannot be rendered with these values, or asks for too much work."""


class TooCostly(SecurityError):
    """An operation that would make more than the sandbox allows."""


# The template constructs allowed: output, text, conditions and expressions. Anything else
# (for, macro, call, set, with, include, import, extends, block, ...) is refused when parsed.
_ALLOWED_NODES: frozenset[type[nodes.Node]] = frozenset(
    {
        nodes.Template,
        nodes.Output,
        nodes.TemplateData,
        nodes.If,
        nodes.FilterBlock,
        nodes.ScopedEvalContextModifier,
        nodes.EvalContextModifier,
        nodes.Keyword,
        nodes.Name,
        nodes.Const,
        nodes.Tuple,
        nodes.List,
        nodes.Dict,
        nodes.Pair,
        nodes.CondExpr,
        nodes.Filter,
        nodes.Test,
        nodes.Call,
        nodes.Getattr,
        nodes.Getitem,
        nodes.Slice,
        nodes.Concat,
        nodes.Compare,
        nodes.Operand,
        nodes.Add,
        nodes.Sub,
        nodes.Mul,
        nodes.Div,
        nodes.FloorDiv,
        nodes.Mod,
        nodes.Pow,
        nodes.And,
        nodes.Or,
        nodes.Not,
        nodes.Neg,
        nodes.Pos,
    }
)
# Filters that make at most a small multiple of their input (`escape`: 6 characters for one)
# in one linear pass. Not `title`, `wordcount` or `striptags`: their regular expressions cost
# some 20 ms a call on the longest text, seconds for a template that calls them 150 times
# (the `str` method `title()` does what `|title` does, in C).
_FILTERS = (
    "abs",
    "capitalize",
    "count",
    "d",
    "default",
    "e",
    "escape",
    "first",
    "float",
    "int",
    "last",
    "length",
    "lower",
    "round",
    "string",
    "trim",
    "truncate",
    "upper",
)
# `str` methods of the same kind (a call of anything else is refused).
_STR_METHODS = frozenset(
    {
        "capitalize",
        "casefold",
        "count",
        "endswith",
        "find",
        "isalpha",
        "isdigit",
        "isnumeric",
        "lower",
        "lstrip",
        "rstrip",
        "startswith",
        "strip",
        "swapcase",
        "title",
        "upper",
    }
)
# `%` conversion specifiers, for their width and precision.
_FORMAT_SPEC = re.compile(r"%(?:\([^)]*\))?[-+ #0]*(\*|\d+)?(?:\.(\*|\d+))?")


@dataclass
class _Budget:
    """What the operators of the render under way may still make, in characters."""

    left: int = MAX_MADE


_budget: ContextVar[_Budget] = ContextVar("template_budget")


def _charge(size: int, operator: str) -> None:
    budget = _budget.get()
    budget.left -= size
    if budget.left < 0:
        raise TooCostly(
            f"{operator!r} would take the text made by this template past {MAX_MADE} characters"
        )


def _sized(value: Any) -> int | None:
    """The length of a text or sequence (what `*` and `+` repeat), None for anything else."""
    return len(value) if isinstance(value, str | list | tuple) else None


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_repeat(left: Any, right: Any) -> None:
    for items, times in ((left, right), (right, left)):
        size = _sized(items)
        if size is not None and _integer(times):
            if not isinstance(items, str):
                raise TooCostly("a list may not be repeated with '*'")
            if size * max(times, 0) > MAX_TEXT:
                raise TooCostly(f"'*' would make a text longer than {MAX_TEXT} characters")
    if _integer(left) and _integer(right) and left.bit_length() + right.bit_length() > MAX_INT_BITS:
        raise TooCostly(f"'*' would make a number larger than {MAX_INT_BITS} bits")


def _check_power(base: Any, exponent: Any) -> None:
    if (
        _integer(base)
        and _integer(exponent)
        and abs(base) > 1
        and exponent > 0
        and base.bit_length() * exponent > MAX_INT_BITS
    ):
        raise TooCostly(f"'**' would make a number larger than {MAX_INT_BITS} bits")


def _check_join(left: Any, right: Any) -> None:
    sizes = (_sized(left), _sized(right))
    if sizes[0] is not None and sizes[1] is not None and sizes[0] + sizes[1] > MAX_TEXT:
        raise TooCostly(f"'+' would make a text longer than {MAX_TEXT} characters")


def _check_format(text: Any) -> None:
    if not isinstance(text, str):
        return
    for spec in _FORMAT_SPEC.finditer(text):
        for number in spec.groups():
            if number == "*" or (number is not None and int(number) > MAX_FORMAT_WIDTH):
                raise TooCostly(f"'%' formatting wider than {MAX_FORMAT_WIDTH} is refused")


class _BoundedCodeGenerator(CodeGenerator):
    """Compiles `a ~ b` to the environment's `bounded_concat`, which sizes what it joins
    before joining it (Jinja's own `str_join` cannot be intercepted)."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.bounded_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class BoundedEnvironment(SandboxedEnvironment):
    """The sandbox templates run in (see the module's docstring)."""

    code_generator_class = _BoundedCodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self) -> None:
        # Not optimised: the optimiser evaluates constant expressions while compiling, before
        # any check below could see them.
        super().__init__(undefined=StrictUndefined, autoescape=False, optimized=False)
        self.globals.clear()
        self.filters = {name: self.filters[name] for name in _FILTERS}

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            _check_repeat(left, right)
        elif operator == "**":
            _check_power(left, right)
        elif operator == "+":
            _check_join(left, right)
        elif operator == "%":
            _check_format(left)
        made = super().call_binop(context, operator, left, right)
        if isinstance(made, str | list | tuple):
            _charge(len(made), operator)  # within MAX_TEXT: checked above (`%`: by its widths)
        return made

    def bounded_concat(self, values: Iterable[Any]) -> str:
        texts: list[str] = []
        size = 0
        for value in values:
            texts.append(str(value))
            size += len(texts[-1])
            if size > MAX_TEXT:
                raise TooCostly(f"'~' would make a text longer than {MAX_TEXT} characters")
        _charge(size, "~")
        return "".join(texts)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        """Only the `str` methods above may be called: nothing else is a function here."""
        if not (
            isinstance(__obj, types.BuiltinMethodType)
            and isinstance(getattr(__obj, "__self__", None), str)
            and __obj.__name__ in _STR_METHODS
        ):
            name = getattr(__obj, "__name__", type(__obj).__name__)
            raise SecurityError(f"{name!r} may not be called in a template")
        return super().call(__context, __obj, *args, **kwargs)


_env = BoundedEnvironment()


def _refused_construct(parsed: nodes.Template) -> nodes.Node | None:
    """The first node of a type templates may not use, if any."""
    pending: list[nodes.Node] = [parsed]
    while pending:
        node = pending.pop()
        if type(node) not in _ALLOWED_NODES:
            return node
        pending.extend(node.iter_child_nodes())
    return None


@contextmanager
def _syntax_errors() -> Iterator[None]:
    """What Python itself refuses in a template's text, as the syntax error it is."""
    try:
        yield
    except RecursionError as error:  # parsing or compiling a very deep expression
        raise TemplateSyntaxError("the template nests too deeply", 1) from error
    except (SyntaxError, ValueError) as error:  # e.g. an integer literal too long to convert
        raise TemplateSyntaxError(str(error), 1) from error


def parse(text: str) -> nodes.Template:
    """The template's syntax tree, checked: `TemplateSyntaxError` (with its line) for bad
    syntax or a construct templates may not use."""
    with _syntax_errors():
        parsed = _env.parse(text)
    refused = _refused_construct(parsed)
    if refused is not None:
        what = type(refused).__name__.lower()
        raise TemplateSyntaxError(
            f"'{what}' is not allowed in a message template (only output, if/elif/else and"
            " filters are)",
            refused.lineno,
        )
    return parsed


def variables(text: str) -> set[str]:
    """The variables a template uses; `TemplateSyntaxError` as `parse`, or for an unknown
    filter (finding them compiles the template)."""
    parsed = parse(text)
    with _syntax_errors():
        return meta.find_undeclared_variables(parsed)


@lru_cache(maxsize=512)
def _compiled(text: str) -> Template:
    # Compiling costs far more than rendering; templates change rarely, messages are many.
    parsed = parse(text)
    with _syntax_errors():
        return _env.from_string(parsed)


def render(text: str, context: Mapping[str, Any]) -> str:
    """Render a template text; a missing variable, a refused operation or anything the
    template raises is a `RenderError`, and so is an output longer than `MAX_TEXT`."""
    out: list[str] = []
    size = 0
    budget = _budget.set(_Budget())
    try:
        for piece in _compiled(text).generate(**context):
            size += len(piece)
            if size > MAX_TEXT:
                raise TooCostly(f"the text would be longer than {MAX_TEXT} characters")
            out.append(piece)
    except TemplateError as error:
        raise RenderError(error.message or type(error).__name__) from error
    except Exception as error:
        # Whatever else an expression raises (1/0, 'a' - 1, a missing index, ...): rendering
        # is pure, so it is the template's doing, and one template's failure is its own.
        raise RenderError(f"{type(error).__name__}: {error}") from error
    finally:
        _budget.reset(budget)
    return "".join(out).strip()
