#!/usr/bin/env python
"""Build the invented sample folder ``examples/data/`` and its description ``examples/DATA.md``.

Every word in the sample files is invented for the lo_signals project and lives
in this script as plain Python strings. The organisations (Northmoor Hospitals
NHS Trust, Riverside Council), people, figures and events are fictional; any
resemblance to a real organisation or report is coincidental.

Run from anywhere::

    python examples/make_data.py

The build is deterministic: fixed dates and metadata, no randomness, and the
zip-based formats (DOCX, XLSX) are rewritten with fixed member timestamps, so
re-running the script gives byte-identical files.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"

FIXED_DATETIME = dt.datetime(2026, 3, 2, 9, 0, 0)
ZIP_DATETIME = (2026, 3, 2, 9, 0, 0)
AUTHOR = "lo_signals example data (invented)"

# ===========================================================================
# 1. Board paper (PDF)
# ===========================================================================

BOARD_HEADER = "Northmoor Hospitals NHS Trust \u2014 Quality Committee \u2014 Part 1"
BOARD_FOOTER = "Quality and Learning Report, Quarter 3 2025/26 \u2014 meeting of 19 February 2026"
BOARD_TITLE = "Quality and Learning Report: Quarter 3, 2025/26"
BOARD_META = [
    ("Meeting", "Quality Committee (Part 1, held in public)"),
    ("Date", "19 February 2026"),
    ("Agenda item", "7"),
    ("Executive leads", "Chief Nurse; Medical Director"),
    ("Author", "Head of Patient Safety and Learning"),
    ("Purpose", "For assurance and discussion"),
]

# Each section: (heading, items). An item is either (paragraph number, text)
# or a list of bullet strings.
BOARD_SECTIONS: list[tuple[str, list]] = [
    (
        "1. Purpose",
        [
            (
                "1.1",
                "This paper gives the Quality Committee a summary of what the Trust has learned during the "
                "third quarter of 2025/26 from the national staff survey, from patient safety incidents and "
                "from Freedom to Speak Up cases. It sets out where practice has changed, where it has not, "
                "and the actions proposed for the fourth quarter.",
            ),
            (
                "1.2",
                "The Trust is committed to becoming a learning organisation in which every colleague feels "
                "safe to raise concerns and in which lessons from harm are shared quickly across all three "
                "sites. This paper should be read alongside the Integrated Performance Report (agenda item 5) "
                "and the Guardian\u2019s annual report (agenda item 9).",
            ),
            (
                "1.3",
                "For context, elective activity in the quarter was 103% of the 2019/20 baseline and the "
                "Emergency Department saw 41,270 attendances, 6% more than in the same quarter last year. "
                "The clinical directorates reported a combined overspend of \u00a31.4m against plan, driven "
                "mainly by temporary staffing on the medical wards.",
            ),
        ],
    ),
    (
        "2. Staff survey findings",
        [
            (
                "2.1",
                "The 2025 survey closed on 28 November with a response rate of 47% (4,112 colleagues), "
                "compared with 44% in 2024. Headline results for the questions that relate most closely to "
                "learning and speaking up are:",
            ),
            [
                "62% of staff said they would feel secure raising concerns about unsafe clinical practice "
                "(2024: 57%; average for comparable acute trusts: 60%);",
                "49% said the Trust treats staff involved in errors, near misses or incidents fairly "
                "(2024: 51%);",
                "71% said that when errors happen the Trust takes action to ensure that they do not happen "
                "again (2024: 68%);",
                "only 38% of respondents in Surgery said they were confident the organisation would address "
                "their concern, the lowest figure of any directorate.",
            ],
            (
                "2.2",
                "The free-text comments tell a more mixed story than the scores. In Women & Children, staff "
                "described midwives and junior doctors teaching each other at the weekly skills drill, and "
                "several band 5 nurses wrote that their own redesign of the postnatal discharge checklist "
                "had been adopted by the ward manager within a month. In Surgery, by contrast, a recurring "
                "theme was that staff who report incidents on Datix are asked \u201cwho was on shift?\u201d "
                "before anyone asks what happened, and a number of comments described theatre staff as "
                "reluctant to challenge senior surgeons for fear of the consequences.",
            ),
            (
                "2.3",
                "The Trust is committed to closing the gap between directorates. Each directorate will "
                "produce a survey action plan by the end of March, co-designed with its staff, and the "
                "People Committee will monitor progress against these plans.",
            ),
        ],
    ),
    (
        "3. Learning from incidents",
        [
            (
                "3.1",
                "Thirty-four patient safety incident investigations and other learning responses were "
                "completed in the quarter under the Patient Safety Incident Response Framework. Eleven "
                "involved moderate harm or above. All duty of candour letters were sent within the "
                "statutory timescale.",
            ),
            (
                "3.2",
                "Several learning responses have led to practice that has demonstrably changed:",
            ),
            [
                "after two delayed recognitions of sepsis on Ward 14, the ward\u2019s healthcare assistants "
                "proposed, and now lead, a two-hourly observation round in the high-dependency bay; audit "
                "of NEWS2 escalation has risen from 72% to 94% compliance over ten weeks;",
                "following a wrong-site nerve block near miss, the anaesthetic team replaced the checklist "
                "pause with a \u201cstop before you block\u201d step led by the operating department "
                "practitioner, who now has explicit authority to halt the procedure;",
                "the Emergency Department has moved its learning huddle from a monthly governance meeting "
                "to a ten-minute daily slot in which the nurse in charge, the consultant and the porters "
                "review the previous night together.",
            ],
            (
                "3.3",
                "These changes came from the teams themselves. The Safety Learning Forum, which meets "
                "monthly and is open to all staff, has now heard presentations from a pharmacy technician, "
                "two F1 doctors and an estates supervisor, and the maternity \u201clearning from "
                "excellence\u201d board has been copied by the children\u2019s ward after nurses from both "
                "areas visited each other.",
            ),
            (
                "3.4",
                "Not every investigation shows the same learning. A review of falls with harm on the "
                "orthopaedic wards found that three of the five action plans repeated recommendations first "
                "made in 2023 that had never been implemented, and in one case the report\u2019s conclusion "
                "focused on the individual staff nurse rather than on the staffing levels on the night. The "
                "Patient Safety Team has reopened that learning response.",
            ),
            (
                "3.5",
                "At the end of December, 14 incident reports older than 60 days remained open (September: "
                "31). Most of these relate to Estates & Facilities and are administrative in nature.",
            ),
        ],
    ),
    (
        "4. Freedom to Speak Up",
        [
            (
                "4.1",
                "The Freedom to Speak Up Guardian received 58 concerns in the quarter (Q2: 47). Twenty-one "
                "were raised anonymously, a higher proportion than in comparable trusts, which the Guardian "
                "reads as a sign that some staff still do not feel safe to put their name to a concern.",
            ),
            ("4.2", "The main themes were:"),
            [
                "behaviour and relationships, including bullying by a small number of senior staff "
                "(19 cases);",
                "patient safety and quality, principally nurse staffing on night shifts (15 cases);",
                "fear of reprisal, cited explicitly in 12 cases, nine of them in Surgery, where staff "
                "described being told that taking concerns outside the team would \u201cnot be good for "
                "your career\u201d;",
                "processes, such as rota changes made without consultation (8 cases).",
            ],
            (
                "4.3",
                "In two cases staff reported that they had suffered detriment after speaking up, including "
                "the withdrawal of an offer of additional shifts. Both cases have been referred to the "
                "Director of People for independent review.",
            ),
            (
                "4.4",
                "There are also signs of growing confidence. Forty-one colleagues have now trained as "
                "speaking-up champions, and in Medicine the proportion of concerns raised with a line "
                "manager first, rather than with the Guardian, has doubled since last year. Several members "
                "of staff told the Guardian that their concern had been heard and acted on within a week.",
            ),
        ],
    ),
    (
        "5. Recommendations",
        [
            ("5.1", "The Committee is asked to:"),
            [
                "note the staff survey results and the variation between directorates;",
                "receive assurance that the learning responses described in section 3 have led to "
                "sustained changes in practice;",
                "note the Freedom to Speak Up themes, in particular the concerns about fear of reprisal "
                "in Surgery;",
                "approve the proposal for an external review of culture in the surgical directorate, to "
                "report by September 2026.",
            ],
            (
                "5.2",
                "The Trust will continue to embed a just and learning culture across all of its services, "
                "and the executive team will report progress against the directorate survey action plans "
                "at the June meeting of the Committee.",
            ),
        ],
    ),
]

# Paragraphs in which the first suitable line end gets a typesetter's hyphen.
BOARD_HYPHENATE = {"2.2", "3.3", "3.4", "4.4"}

# Consonant pairs that begin English syllables: never split between them.
_ONSETS = {
    "bl", "br", "ch", "cl", "cr", "dr", "fl", "fr", "gl", "gr", "ph", "pl", "pr",
    "sc", "sh", "sk", "sl", "sm", "sn", "sp", "st", "sw", "th", "tr", "tw", "wh", "wr", "ck", "ng",
}
_VOWELS = set("aeiouy")


def _split_points(word: str) -> list[int]:
    """Plausible hyphenation points: C|C, C|onset and V|CV, three letters before and four after."""
    points = []
    for k in range(3, len(word) - 3):
        a, b, c = word[k - 1], word[k], word[k + 1]
        if not any(ch in _VOWELS for ch in word[:k]) or not any(ch in _VOWELS for ch in word[k:]):
            continue
        if a not in _VOWELS and b not in _VOWELS:
            if a + b in _ONSETS and a != b:
                continue
            if c not in _VOWELS and b + c not in _ONSETS:
                continue
            if word[k + 1 :] in ("ing", "ed", "er") and a != b:  # learn-ing, not lear-ning
                continue
            points.append(k)
        elif a in _VOWELS and word[k - 2] not in _VOWELS and b not in _VOWELS and c in _VOWELS:
            points.append(k)
    return points


def _line_counts(text: str, style, width: float, bullet: str | None) -> list[tuple[float, int]]:
    """(spare width, word count) of each wrapped line of a paragraph."""
    from reportlab.platypus import Paragraph

    para = Paragraph(text, style, bulletText=bullet)
    para.wrap(width, 10_000)
    out = []
    for line in para.blPara.lines:
        if isinstance(line, tuple):  # simple paragraphs: (extra space, words)
            out.append((line[0], len(line[1])))
        else:  # FragLine, for paragraphs with entities or several fragments
            out.append((line.extraSpace, line.wordCount))
    return out


def _hyphenate_once(text: str, style, width: float, bullet: str | None) -> str:
    """Break the first long word that starts a wrapped line, as a typesetter would.

    The prefix and a hyphen end the line with a forced break; each candidate is
    re-wrapped to check that the prefix really stays on the line it ends.
    """
    lines = _line_counts(text, style, width, bullet)
    tokens = text.split(" ")
    index = 0
    for n, (_, count) in enumerate(lines[:-1]):
        index += count
        if index >= len(tokens):
            break
        word = tokens[index]
        core = word.rstrip(",.;:")
        if not core.isalpha() or not core.islower():
            continue
        for k in reversed(_split_points(core)):
            trial = tokens[:index] + [core[:k] + "-<br/>" + word[k:]] + tokens[index + 1 :]
            candidate = " ".join(trial)
            new_lines = _line_counts(candidate, style, width, bullet)
            if new_lines[n][1] == count + 1 and new_lines[n][0] >= 0 and all(
                a[1] == b[1] for a, b in zip(lines[:n], new_lines[:n])
            ):
                return candidate
    return text


def build_pdf(path: Path) -> None:
    from reportlab import rl_config

    rl_config.invariant = 1  # fixed creation date and document id

    from reportlab.lib import colors
    from reportlab.lib.enums import TA_JUSTIFY
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    body = ParagraphStyle(
        "Body", fontName="Helvetica", fontSize=11, leading=15.5, alignment=TA_JUSTIFY,
        leftIndent=11 * mm, bulletIndent=0, spaceAfter=7,
    )
    bullet = ParagraphStyle(
        "Bullet", parent=body, leftIndent=17 * mm, bulletIndent=11 * mm, spaceAfter=4,
    )
    heading = ParagraphStyle(
        "Heading", fontName="Helvetica-Bold", fontSize=13.5, leading=17, spaceBefore=12, spaceAfter=7,
        keepWithNext=1,
        textColor=colors.HexColor("#003087"),
    )
    title = ParagraphStyle(
        "Title", fontName="Helvetica-Bold", fontSize=19, leading=24, spaceAfter=10,
        textColor=colors.HexColor("#003087"),
    )
    cell = ParagraphStyle("Cell", fontName="Helvetica", fontSize=10, leading=13)
    cell_bold = ParagraphStyle("CellBold", parent=cell, fontName="Helvetica-Bold")

    page_w, page_h = A4
    margin = 22 * mm
    frame_w = page_w - 2 * margin

    def make_story() -> tuple[list, int]:
        """Fresh flowables for each build (reportlab consumes them)."""
        story: list = [Paragraph(escape(BOARD_TITLE), title)]
        meta = Table(
            [[Paragraph(escape(k), cell_bold), Paragraph(escape(v), cell)] for k, v in BOARD_META],
            colWidths=[40 * mm, frame_w - 40 * mm],
        )
        meta.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#7f7f7f")),
                    ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#e8edf5")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        story += [meta, Spacer(1, 6 * mm)]

        hyphenated = 0
        for head, items in BOARD_SECTIONS:
            story.append(Paragraph(escape(head), heading))
            for item in items:
                if isinstance(item, list):
                    story += [Paragraph(escape(t), bullet, bulletText="\u2022") for t in item]
                    continue
                number, text = item
                markup = escape(text)
                if number in BOARD_HYPHENATE:
                    # The frame's default 6pt side padding narrows the text width.
                    new = _hyphenate_once(markup, body, frame_w - 12, number)
                    hyphenated += new != markup
                    markup = new
                story.append(Paragraph(markup, body, bulletText=number))
        return story, hyphenated

    def furniture(total: int):
        def draw(canvas, doc) -> None:
            canvas.saveState()
            canvas.setFont("Helvetica", 8.5)
            canvas.setFillColor(colors.HexColor("#404040"))
            canvas.drawString(margin, page_h - 13 * mm, BOARD_HEADER)
            canvas.setStrokeColor(colors.HexColor("#003087"))
            canvas.setLineWidth(0.6)
            canvas.line(margin, page_h - 15 * mm, page_w - margin, page_h - 15 * mm)
            canvas.line(margin, 15 * mm, page_w - margin, 15 * mm)
            canvas.drawString(margin, 10 * mm, BOARD_FOOTER)
            canvas.drawRightString(page_w - margin, 10 * mm, f"Page {doc.page} of {total}")
            canvas.restoreState()

        return draw

    def render(total: int) -> tuple[bytes, int]:
        buf = io.BytesIO()
        doc = SimpleDocTemplate(
            buf, pagesize=A4, leftMargin=margin, rightMargin=margin, topMargin=24 * mm, bottomMargin=22 * mm,
            title=BOARD_TITLE, author="Northmoor Hospitals NHS Trust (fictional)", subject="Quality Committee",
            creator=AUTHOR, producer="ReportLab",
        )
        draw = furniture(total)
        story, hyphenated = make_story()
        if not hyphenated:
            raise SystemExit("no word was hyphenated across a line break; adjust BOARD_HYPHENATE")
        doc.build(story, onFirstPage=draw, onLaterPages=draw)
        return buf.getvalue(), doc.page

    _, pages = render(0)  # first pass counts the pages for "Page n of N"
    data, pages2 = render(pages)
    assert pages == pages2
    path.write_bytes(data)


# ===========================================================================
# 2. Inquiry chapter (DOCX)
# ===========================================================================

INQUIRY_TITLE = "Independent Review of Maternity and Neonatal Services at Northmoor Hospitals NHS Trust"

# ("h1"|"h2"|"p"|"quote"|"table"|"caption"|"rec", payload)
DOCX_CONTENT: list[tuple[str, object]] = [
    ("h1", "Chapter 3: Culture, candour and the response to families"),
    ("h2", "Introduction"),
    ("p", ("3.1", "This chapter sets out what the review team found about the culture of the maternity "
           "service between 2019 and 2024, and about how the Trust responded when things went wrong. It "
           "draws on 96 interviews with current and former staff, the accounts of 61 families, and our "
           "reading of more than 2,000 pages of incident reports, minutes and correspondence.")),
    ("p", ("3.2", "We heard from many staff who care deeply about the women and babies they look after. "
           "The findings below are not a judgement on individuals. They describe a system in which it "
           "became hard to speak honestly about harm.")),
    ("h2", "A culture of blame"),
    ("p", ("3.3", "The review found that, for much of the period, incidents on the labour ward were treated "
           "as matters of individual performance. Investigation reports frequently ended with a named "
           "midwife being sent for \u201csupportive\u201d retraining, while questions about staffing, "
           "escalation and the availability of senior obstetric cover went unasked.")),
    ("p", ("3.4", "Witnesses told us that staff learned not to report. A midwife who had worked on the unit "
           "for eleven years said:")),
    ("quote", "\u201cYou didn\u2019t put a Datix in unless you wanted to be the one in the office the next "
              "morning. Everyone knew that. So you wrote it in your notebook and you hoped nothing came "
              "of it.\u201d"),
    ("p", ("3.5", "Junior doctors described a similar reluctance to challenge. Several said that calling a "
           "consultant in at night was seen as a sign of weakness, and two told us they had been shouted "
           "at in front of colleagues for doing so.")),
    ("h2", "How the Trust responded to families"),
    ("p", ("3.6", "Families told us that, when they raised questions, they were met with reassurance rather "
           "than answers. In a number of cases the Trust\u2019s first formal response denied that anything "
           "had gone wrong, before its own investigation had concluded.")),
    ("p", ("3.7", "One mother, whose son was admitted to the neonatal unit after a delayed emergency "
           "caesarean section, described her meeting with the service:")),
    ("quote", "\u201cThey had a script. Every time I asked why it took forty minutes, the answer was that "
              "the team had followed guidance. Nobody would look at me. I only found out that part of the "
              "CTG trace was missing from a letter two years later.\u201d"),
    ("p", ("3.8", "The review team examined the records in eleven cases in which families had raised "
           "concerns about their care. In three of them, entries in the clinical notes had been added or "
           "amended after the family\u2019s complaint was received, without being marked as retrospective. "
           "In one case part of a cardiotocograph (CTG) trace could not be found. We have referred these "
           "cases to the Trust and to the relevant professional regulators.")),
    ("p", ("3.9", "Over the same period the Trust\u2019s board papers repeatedly stated that the maternity "
           "service had \u201ca strong safety culture\u201d and \u201can open and transparent approach to "
           "families\u201d. We found little in the evidence to support these assurances.")),
    ("h2", "Timeline of key events"),
    ("p", ("3.10", "Table 3.1 summarises the events most relevant to this chapter.")),
    ("caption", "Table 3.1: Timeline of key events, 2019 to 2024"),
    ("table", [
        ("Date", "Event"),
        ("March 2019", "Staff survey: 41% of maternity staff say they feel secure raising concerns"),
        ("November 2020", "Two serious incidents on the labour ward; both investigation reports name "
                          "individual midwives"),
        ("June 2021", "A consultant midwife raises concerns about staffing with the Director of Nursing"),
        ("February 2022", "A local newspaper reports families\u2019 concerns; the Trust issues a statement "
                          "defending the service"),
        ("September 2023", "New Director of Midwifery appointed; a daily multidisciplinary safety huddle "
                           "is introduced"),
        ("January 2024", "The Trust commissions this independent review"),
    ]),
    ("h2", "Good practice"),
    ("p", ("3.11", "The review also found practice that the Trust can build on. Since 2023 the neonatal "
           "unit has held a monthly case review in which nurses, doctors and a parents\u2019 representative "
           "walk through a recent case together. Staff told us that this meeting was the one place where "
           "junior staff routinely questioned consultants, and that its discussions had changed how the "
           "unit hands over at night.")),
    ("p", ("3.12", "The community midwifery team in the northern locality rebuilt its home-birth escalation "
           "process after a near miss in 2023. The redesign was led by two band 6 midwives, was tested "
           "with families, and has since been adopted by the other two community teams.")),
    ("p", ("3.13", "Several newly qualified midwives described a preceptorship scheme in which they were "
           "paired with experienced colleagues and, in turn, taught students on the ward. They told us it "
           "made them feel that their questions were welcome.")),
    ("h2", "Conclusions"),
    ("p", ("3.14", "The evidence shows a service in which fear of blame discouraged reporting, a defensive "
           "response to families compounded their distress, and senior leaders relied on assurance rather "
           "than on what staff and families were telling them. The pockets of good practice show that a "
           "different culture is possible, but they grew up despite the system rather than because of it.")),
    ("h2", "Recommendations"),
    ("rec", "The Trust should commission an external review of every maternity incident investigation "
            "completed between 2019 and 2024 that named an individual member of staff, and should offer "
            "a meeting to each family concerned."),
    ("rec", "The Trust should adopt a policy that any retrospective entry in the clinical record is clearly "
            "marked, dated and audited, and should report compliance to the Board every quarter."),
    ("rec", "The Trust should ensure that every family who raises a concern is offered a named contact and "
            "a meeting with a senior clinician within ten working days."),
    ("rec", "The Board should satisfy itself, through direct engagement with frontline staff, that its "
            "assurances about safety culture reflect what staff actually experience."),
    ("rec", "The Trust should extend the neonatal unit\u2019s case review model to the labour ward and to "
            "the community midwifery teams."),
]


def build_docx(path: Path) -> None:
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    d = docx.Document()
    section = d.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.left_margin = section.right_margin = Cm(2.5)
    section.header.paragraphs[0].text = INQUIRY_TITLE
    section.footer.paragraphs[0].text = "Chapter 3 \u2014 Culture, candour and the response to families"
    section.footer.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    d.styles["Normal"].font.name = "Calibri"
    d.styles["Normal"].font.size = Pt(11)

    intro = d.add_paragraph(INQUIRY_TITLE)
    intro.runs[0].italic = True
    for kind, payload in DOCX_CONTENT:
        if kind == "h1":
            d.add_heading(payload, level=1)
        elif kind == "h2":
            d.add_heading(payload, level=2)
        elif kind == "p":
            number, text = payload
            p = d.add_paragraph(f"{number}\t{text}")
            p.paragraph_format.left_indent = Cm(1.25)
            p.paragraph_format.first_line_indent = Cm(-1.25)
            p.paragraph_format.tab_stops.add_tab_stop(Cm(1.25))
        elif kind == "quote":
            d.add_paragraph(payload, style="Quote")
        elif kind == "caption":
            d.add_paragraph(payload, style="Caption")
        elif kind == "table":
            rows = payload
            table = d.add_table(rows=len(rows), cols=2)
            table.style = "Table Grid"
            for r, (a, b) in enumerate(rows):
                for c, value in enumerate((a, b)):
                    cell = table.cell(r, c)
                    cell.text = value
                    if r == 0:
                        cell.paragraphs[0].runs[0].bold = True
            for row in table.rows:
                row.cells[0].width = Cm(3.5)
                row.cells[1].width = Cm(12.5)
        elif kind == "rec":
            d.add_paragraph(payload, style="List Number")
        else:  # pragma: no cover - guards typos in DOCX_CONTENT
            raise ValueError(kind)

    props = d.core_properties
    props.title = "Chapter 3: Culture, candour and the response to families"
    props.subject = INQUIRY_TITLE
    props.author = AUTHOR
    props.last_modified_by = AUTHOR
    props.comments = "Invented sample text for lo_signals; not a real report."
    props.keywords = "example; invented"
    props.revision = 1
    props.created = FIXED_DATETIME
    props.modified = FIXED_DATETIME
    props.last_printed = FIXED_DATETIME
    buf = io.BytesIO()
    d.save(buf)
    path.write_bytes(_normalise_zip(buf.getvalue()))


# ===========================================================================
# 3. Inquiry chapter, another sector (HTML)
# ===========================================================================

HTML_PAGE = """<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Chapter 4: How the service learns | Independent Review of Children's Social Care in Riverside</title>
<style>
  body { font-family: Arial, Helvetica, sans-serif; margin: 0; color: #1d1d1d; line-height: 1.5; }
  nav ul { list-style: none; display: flex; gap: 1.5rem; background: #00594f; margin: 0; padding: 0.75rem 2rem; }
  nav a { color: #ffffff; text-decoration: none; }
  header, main, footer { max-width: 46rem; margin: 0 auto; padding: 1rem 2rem; }
  blockquote { border-left: 4px solid #00594f; margin: 1.5rem 0; padding: 0.25rem 1rem; font-style: italic; }
  .cookie-banner { position: fixed; bottom: 0; background: #f3f2f1; padding: 1rem; }
  footer { font-size: 0.85rem; color: #505a5f; border-top: 1px solid #b1b4b6; }
</style>
<script>
  window.dataLayer = window.dataLayer || [];
  function acceptCookies() {
    document.cookie = "riverside_consent=yes; max-age=31536000; path=/";
    document.querySelector(".cookie-banner").hidden = true;
  }
  console.log("Review site loaded: chapter 4");
</script>
</head>
<body>
<div class="cookie-banner" hidden>
  <p>We use cookies to understand how people use this site.</p>
  <button onclick="acceptCookies()">Accept cookies</button>
</div>
<nav aria-label="Review chapters">
  <ul>
    <li><a href="index.html">Home</a></li>
    <li><a href="contents.html">Contents</a></li>
    <li><a href="chapter-3-voice.html">Previous: Chapter 3</a></li>
    <li><a href="chapter-5-workforce.html">Next: Chapter 5</a></li>
    <li><a href="review-full.pdf">Download the full review (PDF)</a></li>
  </ul>
</nav>
<header>
  <p>Riverside Council</p>
  <p>Independent Review of Children's Social Care in Riverside &mdash; published 3 March 2026</p>
</header>
<main>
<h1>Chapter 4: How the service learns</h1>

<h2>4.1 What we looked at</h2>
<p>We examined how children's social care in Riverside learns from its own practice: from case audits,
from child safeguarding practice reviews, from complaints, and from what children and families tell it.
We spoke to 48 social workers, team managers and senior officers, read 30 case files, and sat in on
eight team meetings and two practice weeks.</p>

<h2>4.2 Practice that has changed</h2>
<p>The clearest example of learning we found was in the Eastside assessment team. After a practice review
in 2023 found that information from schools had not reached the assessing social worker, the team's own
practitioners redesigned the way new referrals are triaged. Social workers now meet a named school liaison
officer every morning, and the rate of re-referrals to the team has fallen from 24% to 15% over eighteen
months.</p>
<p>Newly qualified social workers told us that group supervision, introduced across the service in 2022,
had changed how they work. Cases are discussed by the whole team, including the business support officer,
who often knows the family from the telephone, and experienced practitioners said that they learn as much
from their newer colleagues as the other way round. The Eastside team managers now take turns to chair
the weekly case discussion, and one of them told us that the most useful challenge she had received all
year came from a student social worker on placement.</p>
<blockquote>
  <p>&ldquo;The first time I admitted I didn't know what to do next, my manager said, &lsquo;Good. Let's
  work it out together.&rsquo; That was the day I decided to stay.&rdquo;</p>
  <p>&mdash; A social worker in her second year of practice</p>
</blockquote>
<p>Foster carers described being invited to the service's quarterly learning day for the first time in
2024, and two of their suggestions about planning placement moves have since been written into the
service's practice guidance.</p>

<h2>4.3 Where learning stops</h2>
<p>Beyond individual teams, the picture is different. Lessons from the three practice reviews published
since 2021 were summarised in briefings for staff, but we found little evidence that the recommendations
had been followed through. The same two themes, the weak recording of the child's own voice and drift in
child-in-need plans, appeared in every review.</p>
<p>Several team managers told us they were reluctant to report problems upwards because the response was
to look for the practitioner at fault. One described a meeting after a critical audit in which a senior
officer asked &ldquo;whose case is this?&rdquo; before the audit findings had been discussed. Staff also
told us that before an inspection, audit scores had sometimes been improved by tidying records rather than
by changing practice.</p>
<p>Complaints from families were handled by a central customer relations team, which closed most of
them with a standard letter. None of the team managers we spoke to could remember being told what a
complaint about their team had said, and the annual complaints report gave numbers and response times but
no themes.</p>
<p>Elected members received quarterly performance reports that described the service as
&ldquo;improving&rdquo;, while caseloads in the Westside teams exceeded 28 children per social worker for
most of 2024.</p>

<h2>4.4 What the council should do</h2>
<ul>
  <li>The council should make sure that every practice review has an action plan owned by a named senior
  officer, with progress reported to the Children's Services Scrutiny Committee.</li>
  <li>The council should spread the Eastside triage model to the other assessment teams, with the
  practitioners who designed it leading that work.</li>
  <li>Senior leaders should hold regular open sessions with frontline staff at which audit findings are
  discussed without reference to individual case-holders.</li>
  <li>The council should aim to become a service in which practitioners feel safe to say when things are
  going wrong, and should ask staff each year whether they do.</li>
</ul>
<p>We return to workforce stability, which lies beneath many of these findings, in Chapter 5.</p>
</main>
<footer>
  <p>&copy; 2026 Riverside Council. This review is fictional sample text written for the lo_signals
  project.</p>
  <p><a href="accessibility.html">Accessibility</a> | <a href="privacy.html">Privacy</a> |
  <a href="cookies.html">Cookies</a> | Page last updated 3 March 2026</p>
</footer>
</body>
</html>
"""


# ===========================================================================
# 4. Staff survey (CSV 2025, XLSX 2024)
# ===========================================================================

SURVEY_QUESTION = "What would make this a better place to work?"

STAFF_GROUPS = {
    "N": "Nursing & Midwifery",
    "M": "Medical & Dental",
    "A": "AHP",
    "C": "Admin & Clerical",
    "E": "Estates & Ancillary",
}

# directorate -> [(staff group code, comment)]; "" is a respondent who left the box empty.
SURVEY_2025: dict[str, list[tuple[str, str]]] = {
    "Surgery": [
        ("N", "Stop the blame culture on ward 9. Every datix comes back as 'who was on shift' not what went wrong"),
        ("M", "As an F1 I'm scared to ring the reg at night after getting shouted at in front of the whole ward"),
        ("N", "more staff on nights. 2 RNs for 28 pts is not safe and everyone knows it"),
        ("N", "Parking. I spend 20 mins every morning driving round the multi storey"),
        ("M", "Consultants in theatres need to accept challenge. The WHO checklist is a tick box when certain surgeons are operating"),
        ("N", "I raised concerns about staffing and was told to 'be a team player'. Havent raised anything since."),
        ("C", "Better chairs in the admin office and a printer that works!!"),
        ("A", "Physio cover for ortho is shocking, we cant get patients mobilised at the weekend"),
        ("N", "Band 5s get blamed for everything. When the pressure ulcer audit was bad the matron named us at handover"),
        ("N", ""),
        ("M", "Protected teaching for F2s. It gets cancelled every time theatre runs over"),
        ("N", "pay band 2 HCAs properly for the clinical work we actualy do"),
        ("N", "Managers who say thank you once in a while"),
        ("M", "Too scared to put in a datix about a consultant's behaviour. Last person who did got moved onto permanent nights."),
        ("N", "People cover their backs instead of fixing things. Everyone writes defensive notes now"),
        ("A", "ODPs are not listened to at the team brief. Had a near miss last month that we flagged beforehand"),
        ("N", "Flexible working requests actually being considered not refused straight away"),
        ("E", "Porters get blamed when beds are late but we dont control the discharge lounge"),
        ("N", "Our ward sister does teaching on a tuesday for new starters which is brilliant, more of that please"),
        ("M", "the rota coordinator is excellent, rota comes out 6 wks ahead now"),
        ("N", ""),
        ("N", "If you speak up you're labelled a troublemaker. Simple as that."),
        ("C", "Secretaries are drowning in a typing backlog, need more staff"),
        ("N", "Incident reviews on 7B are actually good now, we go through it as a team and the matron asks what we need"),
        ("M", "Canteen open past 8pm for the night staff"),
        ("N", "Stop moving us to other wards mid shift without asking"),
        ("A", "Would be nice to be included in M&M, OTs and physios would learn a lot from it"),
        ("N", "The fear is real. Nobody on our unit will challenge the surgeons"),
    ],
    "Medicine": [
        ("N", "Ward 14 HCAs started the 2 hourly obs round themselves and the manager backed them, proud of that"),
        ("M", "Our reg runs a 15 min teaching session after board round every day, F1s take turns to present a case"),
        ("N", "more band 5s on AMU. we are always short and agency dont know the ward"),
        ("N", "parking permits cost too much for part time staff"),
        ("N", "Matron listens. When I said the handover sheet was wasting time she asked me to redesign it and we use my version now"),
        ("M", "Fix the IT, logging in to 4 systems for one patient is ridiculous"),
        ("A", "SLT and dietetics now join the frailty MDT and we learn loads from the nurses"),
        ("N", ""),
        ("N", "Sometimes still feel blamed when a pt falls even when we were 2 staff down"),
        ("C", "Ward clerks should be in the huddle, we know whats going on with discharges"),
        ("N", "pay rise that matches inflation"),
        ("M", "Consultants on the resp team are very approachable, I can ask anything without feeling stupid"),
        ("N", "Learning from incidents is shared at the safety huddle every shift now rather than in an email no one reads"),
        ("N", "Too many meetings, not enough time on the floor"),
        ("E", "Domestic staff need more time per bay, we are always rushed"),
        ("N", "Night staff feel forgotten. Nobody asks our opinion"),
        ("M", "Rota gaps are covered by the same 3 people every month, its not sustainable"),
        ("N", "My manager let me lead the pressure ulcer project as a band 5 and the audit has improved since we changed the turning charts"),
        ("A", "More pharmacists on the wards at weekends"),
        ("N", "Being able to get annual leave in the summer!!"),
        ("N", "Had a near miss with insulin and instead of a telling off the ward had a learning session and we changed how we check. Felt safe to report it"),
        ("M", "Would like more chances to teach the nursing students, we learn off each other"),
        ("N", ""),
        ("C", "Working from home one day a week"),
        ("N", "Sister asks the HCAs what they think before changing anything on the ward, makes a big diffrence"),
        ("N", "Replace the broken obs machines on 12"),
    ],
    "Women & Children": [
        ("N", "Skills drills every Weds are the best thing here, midwives and docs teach each other and the HCAs join in"),
        ("M", "As a junior I can challenge a consultant on labour ward and get thanked for it. Not like my last trust"),
        ("N", "Postnatal discharge checklist was designed by us band 5s and it's cut discharge delays. Feels good to be listened to"),
        ("N", "more midwives. the birth rate has gone up and staffing hasnt"),
        ("N", "Parking at night feels unsafe, the lighting in car park C is terrible"),
        ("N", "Our debriefs after difficult births are honest, we talk about what went wrong without anyone being hung out to dry"),
        ("M", "Paeds regs run sim for the neonatal nurses and the nurses run it for us, really valuable"),
        ("C", "Admin team not told about changes until the day they happen"),
        ("N", ""),
        ("N", "Preceptorship here is good, I was paired with an experienced midwife and now I help teach the students"),
        ("N", "Band 6 progression is too slow"),
        ("N", "The learning from excellence board is lovely, people actually read it and copy ideas"),
        ("N", "Still some midwives who have been here forever and dont like new ideas"),
        ("M", "Would like protected time for audit, we do it in our own time"),
        ("N", "Community team rewrote the home birth escalation process after a near miss and the other teams are using it now"),
        ("A", "Physios and midwives now run joint pelvic health clinics, we have learnt loads from each other"),
        ("N", "Tea and coffee for night staff on labour ward please"),
        ("N", "I reported a drug error I made and my manager thanked me for being honest. We changed the double check process afterwards"),
        ("N", "Uniforms that fit"),
        ("M", "Paeds rota is published late, hard to plan childcare"),
        ("N", ""),
        ("N", "Families get told the truth when something goes wrong now, the new DoM insists on it"),
        ("C", "Better IT for clinic bookings"),
        ("N", "Not enough time for breaks on busy shifts"),
    ],
    "Estates & Facilities": [
        ("E", "Pay. Band 2 for this job is a joke"),
        ("E", "Porters need more staff on nights, 3 porters for the whole site"),
        ("E", "Parking for staff who start at 6am, the car park is full of visitors by then"),
        ("E", "Managers never come down to the basement, they dont know what we do"),
        ("E", ""),
        ("E", "New trolleys. Half of them have broken wheels"),
        ("E", "The supervisors are good, they show new starters how to do the job properly instead of just handing them a leaflet"),
        ("E", "Stop cutting overtime"),
        ("C", "Helpdesk system is slow and jobs get lost"),
        ("E", "Nobody reads our suggestions. We put in the idea about the lift rota and heard nothing back"),
        ("E", "Get the uniforms sorted, been waiting 4 months for boots"),
        ("E", "Domestic team leader asked us how to reorganise the rota and actually used our plan, first time in years"),
        ("E", ""),
        ("E", "Blamed for things that are not our fault, like when the ward didnt order the linen"),
        ("E", "Better rest room, ours has no window"),
        ("E", "Training for the new cleaning machines"),
        ("E", "Weekend enhancements paid on time"),
        ("E", "Catering staff treated as part of the hospital not an afterthought"),
        ("C", "Estates admin need a proper system not 6 spreadsheets"),
        ("E", "More time to do a deep clean properly"),
    ],
    "Corporate": [
        ("C", "Hybrid working is great, keep it"),
        ("C", "Senior managers say they want honesty but the last person who questioned the CIP was sidelined"),
        ("C", "Less duplication of reports for the board"),
        ("C", "Finance do lunch and learn sessions where each of us teaches the others a bit of our job. Really helpful"),
        ("C", ""),
        ("C", "Pay progression for band 4s"),
        ("C", "Too many restructures. We've had 3 in 4 years and nothing changes"),
        ("C", "HR should reply to emails"),
        ("C", "People are frightened to tell the exec team bad news so reports get softened before they go up"),
        ("C", "The new apprentices brought fresh ideas and we actually tried some of them"),
        ("C", "Car parking charges"),
        ("N", "Quality team meet the clinical teams on the wards now instead of sending spreadsheets, we learn much more"),
        ("C", "Desks and monitors for everyone in the new office"),
        ("C", "Comms asked staff to help write the new values instead of doing it themselves, that was good"),
        ("C", "Stop sending all staff emails about everything"),
        ("C", ""),
        ("N", "Leadership training for band 7s"),
        ("C", "Some directors dont like being challenged in meetings, you can see it"),
        ("E", "Lift in Trust HQ has been broken for months"),
        ("C", "I feel trusted to manage my own workload, my manager doesnt micromanage"),
        ("C", "More recognition for admin staff"),
        ("C", "A proper induction, I had none"),
    ],
}

SURVEY_2024: dict[str, list[tuple[str, str]]] = {
    "Surgery": [
        ("N", "Someone always gets blamed on ward 9 and its usually the newest nurse"),
        ("M", "F1s are left on their own on surgical nights. Reg is in theatre and we get told off for calling"),
        ("N", "more HCAs"),
        ("N", ""),
        ("N", "parking is awful"),
        ("M", "Theatre culture is toxic with a couple of consultants. Everyone knows who and nothing happens"),
        ("A", "ODPs should be part of the debrief not just the surgeons"),
        ("N", "Afraid to report pressure damage because the matron takes it personally"),
        ("C", "Secretaries need overtime paid, not time back we never get to take"),
        ("N", "Proper breaks, I havent had a full break in weeks"),
        ("M", "good teaching from the registrars on the colorectal firm"),
        ("N", "Was told to change my incident report because it 'made the ward look bad'"),
        ("E", "Theatre porters need somewhere to sit between jobs"),
        ("N", "more flexibility with the rota"),
        ("N", ""),
        ("M", "M&M is about finding someone to blame rather than learning anything"),
        ("N", "Ward manager is supportive but she gets no support from above"),
        ("A", "Physio staffing at weekends"),
    ],
    "Medicine": [
        ("N", "Safety huddle on 12 is useful, we talk about near misses every morning"),
        ("N", "more staff on AMU"),
        ("M", "Med reg teaching on wednesdays is great but often cancelled"),
        ("N", "Pay band 3 for HCAs who do bloods and ECGs"),
        ("N", ""),
        ("N", "I suggested changing how we do the drug round and my manager let me trial it, now the whole ward does it"),
        ("C", "Ward clerk cover when we are off sick"),
        ("N", "Staff room is too small"),
        ("M", "Feel comfortable raising concerns with the consultants on elderly care"),
        ("N", "Sometimes feel blamed for falls when we are understaffed"),
        ("A", "OTs and physios sharing training with the nurses on the stroke unit has been good"),
        ("N", "Free parking for night shift"),
        ("E", "Domestics get left out of ward meetings"),
        ("N", "We learn from each other on this ward, senior nurses are always happy to show you"),
        ("N", "Too much paperwork"),
        ("M", "Rota is a mess"),
    ],
    "Women & Children": [
        ("N", "more midwives on labour ward"),
        ("M", "Skills drills with the midwives are brilliant, best teaching I have had"),
        ("N", "Since the new DoM started people seem less scared to speak up"),
        ("N", "Parking"),
        ("N", ""),
        ("N", "Band 5 midwives should be allowed to lead the fetal monitoring sessions, some of us are really good at it"),
        ("N", "Debriefs after an emergency section are routine now and people are honest in them"),
        ("C", "Receptionists need more staff in antenatal clinic"),
        ("N", "Still feel nervous calling the consultant at night sometimes"),
        ("M", "Neonatal case review is really good, a parents rep comes and we all learn"),
        ("N", "Pay"),
        ("N", "Better access to study days"),
        ("N", "We started a peer support group for newly qualified midwives and managers gave us the time for it"),
        ("A", "Sonographers are never asked about service changes"),
        ("N", "Some older staff still say 'we have always done it this way'"),
        ("N", ""),
    ],
    "Estates & Facilities": [
        ("E", "Better pay"),
        ("E", "Fix the lifts"),
        ("E", "More porters"),
        ("E", ""),
        ("E", "Our supervisor listened and changed the shift pattern after we asked"),
        ("E", "Uniforms"),
        ("E", "Overtime rates"),
        ("E", "Managers dont know our names"),
        ("C", "Proper computers for the estates office"),
        ("E", "Parking"),
        ("E", "We get blamed if a ward isnt clean even when we were pulled to another area"),
        ("E", "Training on the new floor machines"),
        ("E", ""),
        ("E", "Kitchen staff should get the same thank you events as nurses"),
    ],
    "Corporate": [
        ("C", "Work from home more"),
        ("C", "Less meetings"),
        ("C", "Pay band reviews"),
        ("C", ""),
        ("C", "Our team does a monthly session where someone teaches a new skill, I learnt pivot tables from an apprentice"),
        ("C", "Execs dont like hearing bad news"),
        ("C", "IT equipment"),
        ("C", "Better communication between departments"),
        ("C", "Car park"),
        ("C", "My manager trusts me to get on with it"),
        ("C", "People keep their heads down, nobody wants to be the one who raised it"),
        ("C", "Induction for new starters"),
        ("C", ""),
        ("N", "Recognition"),
        ("C", "HR take too long with recruitment"),
        ("C", "Restructure has left everyone unsettled"),
    ],
}

SURVEY_COLUMNS = ["respondent_id", "year", "directorate", "staff_group", "question", "comment"]


def survey_rows(year: int, data: dict[str, list[tuple[str, str]]]) -> list[list[object]]:
    """Flatten the comments into export rows in a fixed, mixed-up order."""
    flat = [
        (directorate, code, comment, i)
        for directorate, items in data.items()
        for i, (code, comment) in enumerate(items)
    ]
    # Mix directorates the way an export ordered by an opaque id would, deterministically.
    flat.sort(key=lambda r: hashlib.sha256(f"{year}|{r[0]}|{r[3]}".encode()).hexdigest())
    prefix = f"NM{year % 100:02d}"
    return [
        [f"{prefix}-{n:04d}", year, directorate, STAFF_GROUPS[code], SURVEY_QUESTION, comment]
        for n, (directorate, code, comment, _) in enumerate(flat, start=1)
    ]


def build_csv(path: Path, rows: list[list[object]]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(SURVEY_COLUMNS)
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8", newline="")


def build_xlsx(path: Path, rows: list[list[object]], year: int) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    wb = Workbook()
    ws = wb.active
    ws.title = f"Staff survey {year}"
    ws.append(SURVEY_COLUMNS)
    for row in rows:
        ws.append(row)
    for c in ws[1]:
        c.font = Font(bold=True, color="FFFFFF")
        c.fill = PatternFill("solid", fgColor="005EB8")
    for letter, width in zip("ABCDEF", (14, 8, 22, 22, 44, 90)):
        ws.column_dimensions[letter].width = width
    for (cell,) in ws.iter_rows(min_row=2, min_col=6, max_col=6):
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:F{len(rows) + 1}"
    wb.properties.creator = AUTHOR
    wb.properties.lastModifiedBy = AUTHOR
    wb.properties.title = f"Northmoor Hospitals NHS Trust staff survey {year}: free-text export (invented)"
    wb.properties.created = FIXED_DATETIME
    wb.properties.modified = FIXED_DATETIME
    buf = io.BytesIO()
    wb.save(buf)
    path.write_bytes(_normalise_zip(buf.getvalue()))


# ===========================================================================
# 5. Listening event note (plain text)
# ===========================================================================

LISTENING_NOTE = """\
Northmoor Hospitals NHS Trust
Staff listening event: Theatres and Day Surgery

Date: Thursday 15 January 2026, 12:30 to 14:00
Place: Education Centre, Northmoor General Hospital
Facilitators: Freedom to Speak Up Guardian; Deputy Chief Nurse
Present: 23 staff (ODPs, theatre nurses, HCAs, anaesthetic registrars, two consultant surgeons, admin)

This is a note of the discussion, not a verbatim record. No names were taken and comments are not
attributed.

The Guardian opened by explaining that the session was a follow-up to the staff survey, which showed
Surgery with the lowest scores in the Trust for confidence that concerns will be addressed. People were
asked what it is like to raise a concern in theatres and what would help.

What staff told us:

- Several people said they no longer report near misses on Datix because the first question is always
  who was involved. One ODP said she stopped raising anything after she was taken off a list the week
  after she challenged a surgeon.
- Theatre nurses described the new team huddle before the first case as a real improvement. The idea came
  from the day surgery nurses and was rolled out to main theatres in November.
- HCAs said they learn most from the recovery nurses, who take the time to explain why obs are done the
  way they are, and asked for that to be made part of induction.
- Staff were frustrated about car parking at the Westfield site and about rotas being published late.
- Both consultants accepted that the tone in theatres "can be sharp" and said they wanted to hear more
  from the rest of the team, including when they get things wrong.

Agreed actions:

- The Guardian will meet the theatre managers in February to discuss the concerns about reprisal.
- Estates will send an update on parking at Westfield by the end of February.
- The day surgery huddle will be written up and shared with the other directorates.
- A follow-up session will be held in April, with an evening slot for night staff.
"""


# ===========================================================================
# Description of the folder (examples/DATA.md: beside the notebooks, not inside
# the folder, so scoring the folder reads only documents)
# ===========================================================================

DATA_MD = """\
# Example data (invented)

A small sample folder for trying lo_signals. **Every word here was written for
the lo_signals project.** The organisations (Northmoor Hospitals NHS Trust,
Riverside Council), people, figures and events are fictional; none of the text
is copied or paraphrased from real reports, reviews, surveys or websites.

The files cover the three registers lo_signals reads (board papers, inquiry
reports, staff feedback) and each supported kind of document structure:

| file | what it is |
|---|---|
| `data/board/quality-committee-report.pdf` | A three-page board paper: the Quality Committee's "Quality and Learning Report" for Q3 2025/26. Running header and page-numbered footer on every page, numbered sections and paragraphs (1.1, 3.2, ...), bullet lists, words hyphenated across line breaks. Mixes operational text (finance, activity), assurance and aspiration ("The Trust is committed to..."), evidence (survey percentages, changed practice, staff-led improvements) and blame/fear evidence (Freedom to Speak Up themes). |
| `data/inquiry/chapter-3-culture.docx` | A chapter of an independent maternity review (Heading 1/Heading 2 styles, numbered findings, quoted testimony, a timeline table, a numbered list of "The Trust should ..." recommendations). Findings of blame culture, defensive responses to families and altered records, alongside good practice. |
| `data/inquiry/chapter-4-learning.html` | A chapter of a review of a council's children's social care, as a web page. The `<nav>`, `<header>`, `<footer>`, `<script>`, `<style>` and a hidden cookie banner are page furniture that a reader should drop; the text is in `<main>` (h1/h2, paragraphs, a list, a blockquote). |
| `data/survey/staff-survey-2025.csv` | A 2025 staff-survey free-text export: 120 rows with `respondent_id, year, directorate, staff_group, question, comment`. Short, blunt comments with abbreviations and typos; 10 are empty. |
| `data/survey/staff-survey-2024.xlsx` | The 2024 export of the same survey in Excel: 80 different rows, same columns; 9 comments are empty. |
| `data/notes/listening-event.txt` | A plain-text note of a staff listening event in theatres, with bullet points. |

The five directorates in the survey differ on purpose, so group comparisons
show something: Surgery has the most blame and fear comments; Women & Children
and Medicine have the most peer teaching and staff-led change; Estates &
Facilities is mostly pay, kit and parking; Corporate is mixed.

Score the folder (the survey's text column is `comment`; `--by directorate`
compares the survey's directorates in the report):

```
lo-signals score examples/data --out runs/example --text-column comment --report --by directorate
```

This description lives beside the notebooks rather than in `data/`, so
scoring the folder reads only the sample documents.

## How it was made

Everything is generated by `examples/make_data.py`, which holds all the text as
Python strings and builds each file with reportlab (PDF), python-docx (DOCX),
openpyxl (XLSX) and the standard library:

```
python examples/make_data.py
```

The build is deterministic (fixed dates and metadata, no randomness, fixed zip
timestamps), so re-running it reproduces the same files byte for byte.
"""


# ===========================================================================
# Helpers and main
# ===========================================================================


def _normalise_zip(data: bytes) -> bytes:
    """Rewrite an OOXML zip with fixed member timestamps and fixed core-property dates."""
    stamp = FIXED_DATETIME.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            blob = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                text = blob.decode("utf-8")
                text = re.sub(
                    r"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:(?:created|modified)>)",
                    lambda m: m.group(1) + stamp + m.group(2),
                    text,
                )
                blob = text.encode("utf-8")
            member = zipfile.ZipInfo(info.filename, date_time=ZIP_DATETIME)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o644 << 16
            dst.writestr(member, blob)
    return out.getvalue()


def main() -> None:
    for sub in ("board", "inquiry", "survey", "notes"):
        (DATA / sub).mkdir(parents=True, exist_ok=True)
    build_pdf(DATA / "board" / "quality-committee-report.pdf")
    build_docx(DATA / "inquiry" / "chapter-3-culture.docx")
    (DATA / "inquiry" / "chapter-4-learning.html").write_text(HTML_PAGE, encoding="utf-8", newline="\n")
    build_csv(DATA / "survey" / "staff-survey-2025.csv", survey_rows(2025, SURVEY_2025))
    build_xlsx(DATA / "survey" / "staff-survey-2024.xlsx", survey_rows(2024, SURVEY_2024), 2024)
    (DATA / "notes" / "listening-event.txt").write_text(LISTENING_NOTE, encoding="utf-8", newline="\n")
    (HERE / "DATA.md").write_text(DATA_MD, encoding="utf-8", newline="\n")
    for p in [*sorted(DATA.rglob("*")), HERE / "DATA.md"]:
        if p.is_file():
            print(f"{p.relative_to(HERE.parent)}  {p.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
