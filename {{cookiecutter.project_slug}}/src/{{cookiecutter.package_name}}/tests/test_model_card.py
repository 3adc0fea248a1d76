"""The model card: data values (column names, categories, class labels) cannot add markup."""

import dataclasses
import re

import pytest

from ..evaluate import evaluate
from ..quality import GateResult
from ..report import markdown_code, markdown_text, model_card

HOSTILE = ["a|b", "`x`", "<script>alert(1)</script>", "[link](http://x)", "line\nbreak", "*_~&#"]
UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")
CODE_SPAN = re.compile(r"(?<![`\\])(`+)(?!`).*?(?<!`)\1(?!`)")


def test_text_escapes_every_markup_character_and_keeps_one_line():
    assert markdown_text("a|b") == r"a\|b"
    assert markdown_text("`x`") == r"\`x\`"
    assert markdown_text("<script>") == r"\<script\>"
    assert markdown_text("[link](http://x)") == r"\[link\](http://x)"
    assert markdown_text("line\nbreak\r\n") == r"line\nbreak\r\n"
    assert markdown_text("a\\b *c* _d_ ~e~ &amp; #f") == r"a\\b \*c\* \_d\_ \~e\~ \&amp; \#f"
    assert markdown_text("plain words, 1.5 (ok)") == "plain words, 1.5 (ok)"


@pytest.mark.parametrize(
    "value, span",
    [
        ("tenure", "`tenure`"),
        ("`x`", "`` `x` ``"),
        ("a``b", "```a``b```"),
        ("<b>[x](y)</b>", "`<b>[x](y)</b>`"),
        ("line\nbreak", r"`line\nbreak`"),
    ],
)
def test_code_spans_are_fenced_longer_than_any_backtick_run(value, span):
    assert markdown_code(value) == span


def _hostile_column(frame):
    return [HOSTILE[i % len(HOSTILE)] for i in range(len(frame))]


def test_hostile_values_reach_the_card_escaped(binary, binary_frames):
    _, holdout = binary_frames
    metadata, schema, task = binary.metadata, binary.schema, binary.task
    column = "col|`name`\n<b>"
    frame = holdout.assign(**{column: _hostile_column(holdout)})
    evaluation = evaluate(binary.model, schema, task, frame, [column])
    evaluation = dataclasses.replace(evaluation, notes=("class [x](http://evil) | <img>",))
    renamed = dataclasses.replace(
        schema,
        features=tuple(
            dataclasses.replace(spec, name=f"{spec.name}|`*`\n") for spec in schema.features
        ),
        target=dataclasses.replace(schema.target, name="target<script>|"),
    )
    gate = GateResult(passed=False, checks=("FAIL roc_auc [x](y) | z",), failures=("x",))
    card = model_card(evaluation, dataclasses.replace(metadata, schema=renamed), task, gate)

    plain = evaluate(binary.model, schema, task, holdout.assign(group="x"), ["group"])
    plain = dataclasses.replace(plain, notes=("a note",))
    reference = model_card(plain, metadata, task, gate)
    # No value added a line (one slice row per hostile value instead of one), HTML or a link.
    assert len(card.splitlines()) == len(reference.splitlines()) + len(HOSTILE) - 1
    markup = CODE_SPAN.sub("", card)  # code spans show their content verbatim
    assert "<script>" not in markup and "<img>" not in markup and "<b>" not in markup
    assert "](http" not in markup.replace(r"\](http", "")
    for row in (
        r"| \<script\>alert(1)\</script\> |",
        r"| \[link\](http://x) |",
        r"| line\nbreak |",
        r"| a\|b |",
        r"| \`x\` |",
        r"| \*\_\~\&\# |",
    ):
        assert row in card
    assert "### ``col|`name`\\n<b>``" in card
    assert "predicting `target<script>|`" in card
    assert "``tenure_months|`*`\\n``" in card
    assert r"- Note: class \[x\](http://evil) \| \<img\>." in card
    assert r"- FAIL roc\_auc \[x\](y) \| z" in card


def test_slice_tables_keep_their_columns(binary, binary_frames):
    _, holdout = binary_frames
    frame = holdout.assign(hostile=_hostile_column(holdout))
    evaluation = evaluate(binary.model, binary.schema, binary.task, frame, ["hostile"])
    card = model_card(evaluation, binary.metadata, binary.task, None)
    lines = card.splitlines()
    start = lines.index("### `hostile`")
    table = [line for line in lines[start + 1 :] if line.startswith("|")][: 2 + len(HOSTILE)]
    cells = 3 + len(evaluation.metrics)  # the edges around: value, rows and each metric
    assert len(table) == 2 + len(HOSTILE)
    for line in table:
        assert len(UNESCAPED_PIPE.findall(line)) == cells, line
