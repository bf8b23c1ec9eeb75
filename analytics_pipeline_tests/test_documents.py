"""The configuration documents' one reader: JSON and TOML with exact numbers, one error type per
document, the file named in every refusal; the plans and budgets files read through it."""

from decimal import Decimal

import pytest

from analytics_pipeline.configuration.documents import parse_document
from analytics_pipeline.costs.budgets import BudgetFileError, parse_budgets
from analytics_pipeline.metrics.revenue import PlansFileError, parse_plans


class DocumentError(ValueError):
    pass


@pytest.mark.parametrize(("fmt", "text"), [("json", '{"price": 0.1, "n": 3}'), ("toml", "price = 0.1\nn = 3\n")])
def test_numbers_stay_exact_in_both_formats(fmt, text):
    data = parse_document(text, fmt=fmt, source="x." + fmt, kind="plans", error=DocumentError)
    assert data == {"price": Decimal("0.1"), "n": 3} and isinstance(data["price"], Decimal)


@pytest.mark.parametrize(("fmt", "text", "says"), [
    ("yaml", "a: 1", "x: unknown plans format 'yaml' (use .json or .toml)"),
    ("json", "{", "x: not valid JSON"),
    ("toml", "a = ", "x: not valid TOML"),
    ("json", "[1, 2]", "x: the top level must be an object/table"),
])
def test_refusals_name_the_file_in_the_documents_error_type(fmt, text, says):
    with pytest.raises(DocumentError, match="^" + says.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        parse_document(text, fmt=fmt, source="x", kind="plans", error=DocumentError)


def test_plans_and_budgets_refuse_through_it_with_their_own_errors():
    with pytest.raises(PlansFileError, match="^plans.json: not valid JSON"):
        parse_plans("{", source="plans.json")
    with pytest.raises(BudgetFileError, match="^budgets.toml: the top level must be an object/table"):
        parse_budgets("[1]", fmt="json", source="budgets.toml")
    with pytest.raises(BudgetFileError, match="unknown budgets format 'ini'"):
        parse_budgets("", fmt="ini")
