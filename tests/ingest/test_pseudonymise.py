"""Pseudonymisation at bronze: which columns and values are personal, the keyed hash, where its key lives."""

from __future__ import annotations

import stat

import pyarrow as pa
import pytest

from bakery.ingest.mapping import load_synonyms
from bakery.ingest.pseudonymise import (
    PrivacyRules,
    is_personal_column,
    is_pseudonym,
    load_pseudonym_key,
    looks_personal,
    pseudonym,
    pseudonymise_columns,
    scrub_line,
)
from tests import REPO_ROOT


@pytest.fixture
def rules(settings) -> PrivacyRules:
    return PrivacyRules.from_settings(settings)


def test_a_pseudonym_is_a_keyed_hash_stable_for_a_key_and_value():
    key = b"k1"
    assert pseudonym("ana@example.com", key) == pseudonym(" ana@example.com ", key)
    assert pseudonym("ana@example.com", key) != pseudonym("ana@example.com", b"k2")
    assert pseudonym("C17", key) != pseudonym("C18", key)
    assert is_pseudonym(pseudonym("C17", key)) and pseudonym("C17", key).startswith("p_")
    assert len(pseudonym("C17", key)) == 18


@pytest.mark.parametrize(
    ("header", "personal"),
    [
        ("cashier_id", True),
        ("Cajero", True),
        ("CustomerID", True),
        ("Customer E-mail", True),
        ("e-mail", True),
        ("Loyalty card no.", True),
        ("Teléfono", True),
        ("Vorname", True),
        ("Manager", True),
        ("member_since", True),
        ("discard", False),
        ("Kommentar", False),
        ("Transaction", False),
        ("ticket", False),
        ("Item", False),
    ],
)
def test_personal_columns_are_matched_by_a_word_at_the_start_of_a_header_word(rules, header, personal):
    assert is_personal_column(header, rules) is personal


def test_no_template_column_and_no_synonym_that_maps_to_one_counts_as_personal(settings, rules):
    """Template columns are never pseudonymised by name: a personal word there would hash store ids."""
    names = {c for spec in settings.sources.values() for c in spec.column_names}
    assert not [n for n in names if is_personal_column(n, rules)]
    # A file column mapped to a template column is judged by the template column: `Kundenfrequenz` (German
    # for footfall) starts with `kunde` but feeds foot_traffic_count.
    assert "kundenfrequenz" in load_synonyms(settings).for_column("traffic", "foot_traffic_count")


@pytest.mark.parametrize(
    ("text", "personal"),
    [
        ("ana@example.com", True),
        ("Ana <ana.lopez@correo.es>", True),
        ("+34 612 345 678", True),
        ("(91) 555-1234", True),
        ("06.12.34.56.78", True),
        ("tel. 612 345 678, ask for Ana", True),
        ("0034612345678", True),
        ("x@y", False),
        ("2026-01-31", False),
        ("31.01.2026", False),
        ("2026-01-02 08:00:00", False),
        ("1234567.5", False),
        ("12.345.678", False),
        ("4006381333931", False),
        ("SKU-123-4567", False),
        ("LC-0001", False),
        ("p_e12e4c0047841dfe", False),
    ],
)
def test_e_mails_and_phone_numbers_are_recognised_by_their_shape(text, personal):
    assert looks_personal(text) is personal


def test_columns_rows_and_raw_lines_keep_only_pseudonyms(rules):
    key = b"k"
    headers = ["transaction_id", "cashier_id", "note", "ticket", "product_id"]
    cols = [
        pa.array(v, pa.string())
        for v in (
            ["T1", "T2", "T3"],
            ["C17", "C18", None],
            ["hola", None, "+34 612 345 678"],
            ["1", "2", "3"],
            ["P1", "ana@example.com", "P3"],
        )
    ]
    malformed = pa.array([None, "expected 5 fields, found 6", None], pa.string())
    raw = pa.array([None, "T2,C18,,2,ana@example.com,bob@example.org", None], pa.string())
    template = {0: "transaction_id", 4: "product_id"}
    out, lines, done = pseudonymise_columns(headers, cols, malformed, raw, template, rules, lambda: key)
    assert done.columns == ["cashier_id", "note"] and done.malformed_rows == 1
    assert out[1].to_pylist() == [pseudonym("C17", key), pseudonym("C18", key), None]
    assert out[2].to_pylist() == [pseudonym("hola", key), None, pseudonym("+34 612 345 678", key)]
    assert out[0].to_pylist() == ["T1", "T2", "T3"] and out[3].to_pylist() == ["1", "2", "3"]
    # a malformed row shifted an e-mail into a template column: replaced there too, in that row only
    assert out[4].to_pylist() == ["P1", pseudonym("ana@example.com", key), "P3"]
    assert lines.to_pylist()[1] == (
        f"T2,{pseudonym('C18', key)},,2,{pseudonym('ana@example.com', key)},"
        f"{pseudonym('bob@example.org', key)}"
    )


def test_a_file_without_personal_data_needs_no_key(rules):
    def no_key() -> bytes:
        raise AssertionError("the key was asked for")

    cols = [pa.array(["S01", "S02"]), pa.array(["Ana's bakery", None])]
    none = pa.nulls(2, pa.string())
    template = {0: "store_id", 1: "name"}
    out, _, done = pseudonymise_columns(["store_id", "name"], cols, none, none, template, rules, no_key)
    assert done.columns == [] and [c.to_pylist() for c in out] == [c.to_pylist() for c in cols]


def test_scrub_line_replaces_only_whole_personal_fields():
    key = b"k"
    line = '2026-01-02T08:15:00;"C17";12;ana@example.com'
    assert scrub_line(line, ["C17"], key) == (
        f'2026-01-02T08:15:00;"{pseudonym("C17", key)}";12;{pseudonym("ana@example.com", key)}'
    )


def test_the_key_comes_from_the_environment_else_a_private_file_in_the_home(settings, monkeypatch):
    monkeypatch.delenv("BAKERY_PSEUDONYM_KEY", raising=False)
    key = load_pseudonym_key(settings)
    path = settings.home / "secrets" / "pseudonym_key"
    assert path.is_file() and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not path.resolve().is_relative_to(REPO_ROOT)
    assert load_pseudonym_key(settings) == key and len(key) >= 32
    monkeypatch.setenv("BAKERY_PSEUDONYM_KEY", "from-the-env")
    assert load_pseudonym_key(settings) == b"from-the-env"
