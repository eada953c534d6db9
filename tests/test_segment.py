"""Tests for lo_signals.segment: boundaries, offsets and speed."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lo_signals.readers import Block, read_documents
from lo_signals.segment import Unit, segment, segment_texts


def texts_of(units: list[Unit]) -> list[str]:
    return [u.text for u in units]


def check_units(text: str, units: list[Unit]) -> None:
    """The invariants every caller relies on."""
    last_end = 0
    for i, u in enumerate(units):
        assert u.unit_id == i
        assert text[u.start : u.end] == u.text
        assert u.text == u.text.strip() and u.text
        assert u.start >= last_end
        last_end = u.end


# --------------------------------------------------------------------------
# Sentence rules
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Staff felt safe. Managers listened.", ["Staff felt safe.", "Managers listened."]),
        ('"We were terrified," she said. Then we left.', ['"We were terrified," she said.', "Then we left."]),
        ('"We were terrified!" she said. Then we left.', ['"We were terrified!" she said.', "Then we left."]),
        ("“Nobody asked why.” he said. It hurt.", ["“Nobody asked why.” he said.", "It hurt."]),
        (
            'She said: "We were terrified. We ran." Then she left.',
            ['She said: "We were terrified. We ran."', "Then she left."],
        ),
        (
            "Some teams, e.g. theatres, learn well. Others, i.e. wards, do not.",
            ["Some teams, e.g. theatres, learn well.", "Others, i.e. wards, do not."],
        ),
        (
            "Dr. Patel and Mr. Jones met Mrs. Khan. They agreed.",
            ["Dr. Patel and Mr. Jones met Mrs. Khan.", "They agreed."],
        ),
        ("See para. 12 and No. 4 of the report. Next point.", ["See para. 12 and No. 4 of the report.", "Next point."]),
        (
            "The rate rose to 3.5 per cent. It was 12.75 last year.",
            ["The rate rose to 3.5 per cent.", "It was 12.75 last year."],
        ),
        ("Prof. J. Smith chaired it. Minutes follow.", ["Prof. J. Smith chaired it.", "Minutes follow."]),
        ("Why did nobody speak up? Fear. Blame!", ["Why did nobody speak up?", "Fear.", "Blame!"]),
        (
            "made a drug error on nights. it went to the huddle as a learning point. still knackered",
            ["made a drug error on nights.", "it went to the huddle as a learning point.", "still knackered"],
        ),
        ("'Why me?' asked the nurse. nobody answered.", ["'Why me?' asked the nurse.", "nobody answered."]),
        (
            "Rotas, leave etc. are never agreed. Delays of approx. ten weeks etc. Then nothing.",
            ["Rotas, leave etc. are never agreed.", "Delays of approx. ten weeks etc.", "Then nothing."],
        ),
    ],
)
def test_sentence_rules(text: str, expected: list[str]) -> None:
    units = segment(text)
    assert texts_of(units) == expected
    check_units(text, units)


def test_numbered_paragraph_prefix_starts_unit_and_stays() -> None:
    text = "13.1. The board met monthly. It rarely discussed incidents.\n13.2 Staff were not told of outcomes."
    assert texts_of(segment(text)) == [
        "13.1. The board met monthly.",
        "It rarely discussed incidents.",
        "13.2 Staff were not told of outcomes.",
    ]


def test_number_prefix_split_by_spacy_is_rejoined() -> None:
    # spaCy ends a sentence at "13.1." on one line; the number belongs to the next words.
    assert texts_of(segment("The end of 13. 13.1. The next paragraph.")) == [
        "The end of 13.",
        "13.1. The next paragraph.",
    ]


def test_list_items_are_their_own_units() -> None:
    text = (
        "The review found:\n"
        "- staff shortages\n"
        "- poor feedback after incidents\n"
        "• no time for reflection\n"
        "4) managers blamed individuals\n"
        "(b) learning was not shared"
    )
    assert texts_of(segment(text)) == [
        "The review found:",
        "- staff shortages",
        "- poor feedback after incidents",
        "• no time for reflection",
        "4) managers blamed individuals",
        "(b) learning was not shared",
    ]


def test_list_item_continuation_lines_stay_with_item() -> None:
    text = "- managers rarely give feedback\n  on reported incidents\n- second"
    assert texts_of(segment(text)) == ["- managers rarely give feedback\n  on reported incidents", "- second"]


def test_headings_are_their_own_units() -> None:
    text = "# Findings\nStaff were blamed. Nobody learned.\n\nEXECUTIVE SUMMARY\nThe trust improved."
    assert texts_of(segment(text)) == [
        "# Findings",
        "Staff were blamed.",
        "Nobody learned.",
        "EXECUTIVE SUMMARY",
        "The trust improved.",
    ]


def test_wrapped_lines_join_into_sentences() -> None:
    text = "The review found that the board rarely discussed\nlearning from incidents. Staff were reluctant\nto report them."
    assert texts_of(segment(text)) == [
        "The review found that the board rarely discussed\nlearning from incidents.",
        "Staff were reluctant\nto report them.",
    ]


def test_short_lowercase_lines_are_separate_units() -> None:
    assert texts_of(segment("not enough staff\nno time to learn\nmanager is great")) == [
        "not enough staff",
        "no time to learn",
        "manager is great",
    ]


def test_noise_units_dropped_and_whitespace_trimmed() -> None:
    text = "   Real sentence here.   \n\n3\n\n— — —\n\nPage 4 of 10\n\n  ...  \n\nAnother one.  "
    units = segment(text)
    assert texts_of(units) == ["Real sentence here.", "Another one."]
    assert units[0].start == 3
    check_units(text, units)


def test_paragraph_index_without_blocks() -> None:
    text = "First para. Still first.\n\n\nSecond para.\n\nThird."
    units = segment(text)
    assert [(u.text, u.paragraph, u.page) for u in units] == [
        ("First para.", 0, None),
        ("Still first.", 0, None),
        ("Second para.", 1, None),
        ("Third.", 2, None),
    ]


def test_blocks_drive_units() -> None:
    text = "Findings\n\nStaff were blamed. Nobody learned.\n\nPublish learning. Track actions."
    blocks = [
        Block(0, 8, "heading", 1),
        Block(10, 44, "paragraph", 1),
        Block(46, len(text), "list_item", 2),
    ]
    units = segment(text, blocks)
    assert [(u.text, u.paragraph, u.page) for u in units] == [
        ("Findings", 0, 1),
        ("Staff were blamed.", 1, 1),
        ("Nobody learned.", 1, 1),
        ("Publish learning. Track actions.", 2, 2),  # a list item is one unit
    ]


def test_heading_block_is_never_split() -> None:
    text = "Dr. Who? A review. Of things."
    assert texts_of(segment(text, [Block(0, len(text), "heading", None)])) == [text]


def test_long_list_item_is_split_into_sentences() -> None:
    sentence = "Managers should discuss every incident with the staff involved and share the learning widely. "
    text = (sentence * 6).strip()
    units = segment(text, [Block(0, len(text), "list_item", None)])
    assert len(units) == 6


def test_max_sentences_groups_within_paragraph() -> None:
    text = "One. Two. Three.\n\nFour. Five."
    assert texts_of(segment(text, max_sentences=2)) == ["One. Two.", "Three.", "Four. Five."]
    with pytest.raises(ValueError):
        segment(text, max_sentences=0)


def test_unordered_or_overlapping_blocks_still_give_ordered_units() -> None:
    text = "Alpha one. Beta two. Gamma three."
    blocks = [Block(11, 20, "paragraph", None), Block(0, 15, "paragraph", None), Block(21, 33, "paragraph", None)]
    units = segment(text, blocks)
    check_units(text, units)
    # Sorted by start; the overlapping block is clipped to what is left of it.
    assert [(u.text, u.paragraph) for u in units] == [
        ("Alpha one.", 1),
        ("Beta", 1),
        ("two.", 0),
        ("Gamma three.", 2),
    ]


def test_empty_inputs() -> None:
    assert segment("") == []
    assert segment("   \n\n  ") == []
    assert segment("Text", []) == []


def test_segment_texts_matches_segment() -> None:
    texts = ["Good team. Bad rota.", "", "- one\n- two", '"Help!" she said.'] * 300
    batched = list(segment_texts(texts))
    assert len(batched) == len(texts)
    for text, units in zip(texts[:4], batched[:4]):
        assert units == segment(text)


def make_two_page_pdf(path: Path) -> Path:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    pages = [
        [
            "1. Introduction",
            "Staff said they felt blamed. Nurses said that errors led to",
            "meetings and that the trust had not",
        ],
        ["learned from earlier incidents. Leaders must model openness."],
    ]
    c = canvas.Canvas(str(path), pagesize=A4)
    width, height = A4
    for number, lines in enumerate(pages, start=1):
        c.setFont("Helvetica", 9)
        c.drawString(72, height - 40, "Quarterly board paper")
        y = height - 90
        for line in lines:
            c.setFont("Helvetica-Bold" if line[0].isdigit() else "Helvetica", 14 if line[0].isdigit() else 11)
            c.drawString(72, y, line)
            y -= 20 if line[0].isdigit() else 14
        c.setFont("Helvetica", 9)
        c.drawString(width / 2, 30, f"Page {number} of 2")
        c.showPage()
    c.save()
    return path


def test_reader_output_segments_with_pages(tmp_path: Path) -> None:
    doc = next(read_documents(make_two_page_pdf(tmp_path / "paper.pdf")))
    units = segment(doc.text, doc.blocks)
    check_units(doc.text, units)
    assert [(u.text, u.page) for u in units] == [
        ("1. Introduction", 1),
        ("Staff said they felt blamed.", 1),
        # The sentence ran across the page break; it belongs to the paragraph begun on page 1.
        ("Nurses said that errors led to meetings and that the trust had not learned from earlier incidents.", 1),
        ("Leaders must model openness.", 1),
    ]


# --------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------

_TOKENS = list("aB z.!?\"“”'’\n-•*#1234()[]:;,\t ") + ["\n\n", "e.g.", "Dr.", "13.1.", "4)", "\r\n", "…", "Page 3"]
_TRICKY = st.lists(st.sampled_from(_TOKENS), max_size=80).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=300), _TRICKY))
def test_property_offsets_order_and_no_overlap(text: str) -> None:
    check_units(text, segment(text))


@settings(max_examples=150, deadline=None)
@given(_TRICKY, st.lists(st.integers(min_value=0, max_value=200), max_size=6), st.integers(1, 3))
def test_property_with_blocks(text: str, cuts: list[int], max_sentences: int) -> None:
    points = sorted({0, len(text), *(c for c in cuts if c <= len(text))})
    kinds = ["paragraph", "heading", "list_item", "quote", "table_cell"]
    blocks = [Block(a, b, kinds[i % len(kinds)], i) for i, (a, b) in enumerate(itertools.pairwise(points))]
    units = segment(text, blocks, max_sentences=max_sentences)
    check_units(text, units)
    for u in units:
        b = blocks[u.paragraph]
        assert b.start <= u.start and u.end <= b.end and u.page == b.page


# --------------------------------------------------------------------------
# Speed
# --------------------------------------------------------------------------


def test_speed_10k_short_sentences() -> None:
    segment("Warm-up.")  # build the pipeline outside the timing
    sentences = [f"Staff member {i} said the ward felt safe. Managers listened on day {i}." for i in range(5_000)]
    t0 = time.perf_counter()
    results = list(segment_texts(sentences))
    elapsed = time.perf_counter() - t0
    assert sum(len(r) for r in results) == 10_000
    assert elapsed < 10, f"segmenting 10,000 sentences took {elapsed:.1f}s"

    text = "\n\n".join(sentences)
    t0 = time.perf_counter()
    units = segment(text)
    elapsed = time.perf_counter() - t0
    assert len(units) == 10_000
    assert elapsed < 10, f"segmenting one 10,000-sentence document took {elapsed:.1f}s"


def test_long_units_are_split_at_whitespace_with_exact_offsets() -> None:
    from lo_signals.readers import Limits, Warnings

    text = "alpha beta\tgamma " * 40 + "\n\nShort sentence here."
    warnings = Warnings()
    units = segment(text, limits=Limits(max_chars=50), warnings=warnings)
    assert all(len(u.text) <= 50 and text[u.start : u.end] == u.text for u in units)
    assert all(not u.text.startswith(" ") and not u.text.endswith(" ") for u in units)
    assert units[-1].text == "Short sentence here."
    assert " ".join(u.text for u in units[:-1]).split() == text.split()[:-3]  # nothing lost
    assert warnings.messages() == ["a unit over 50 characters was split (--max-chars)"]
    # A run with no whitespace is cut hard at the limit.
    hard = segment("x" * 120, limits=Limits(max_chars=50))
    assert [len(u.text) for u in hard] == [50, 50, 20]


def test_max_units_stops_a_document() -> None:
    from lo_signals.readers import Limits, Warnings

    warnings = Warnings()
    units = segment("One. Two. Three. Four.", limits=Limits(max_units=2), warnings=warnings)
    assert [u.text for u in units] == ["One.", "Two."]
    assert warnings.messages() == ["a document was cut at 2 units (--max-units)"]
