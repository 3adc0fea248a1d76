"""Reading tables: separators, byte-order marks and codes, the same in every way in."""

import io

import pytest
from click.testing import CliRunner

from ..cli import main
from ..config import ConfigError, load_config
from ..data import iter_table_chunks, parse_csv, read_table, sniff_separator

EUROPEAN = "\ufeffid;code;amount\n1;007;3.5\n2;010;4\n3;A12;\n"


@pytest.mark.parametrize(
    ("header", "separator"),
    [(b"a,b,c\n", ","), (b"a;b;c\n", ";"), (b"a\tb\n", "\t"), (b"a|b\n", "|"), (b"a\n", ",")],
)
def test_the_separator_is_sniffed_from_the_header_line(header, separator):
    assert sniff_separator(b"\xef\xbb\xbf" + header + b"1,2;3\n") == separator


def test_semicolon_files_with_a_bom_read_the_same_every_way(write_csv):
    path = write_csv(EUROPEAN.encode("utf-8").decode("utf-8"))
    frames = [
        read_table(path),
        parse_csv(EUROPEAN.encode("utf-8")),
        next(iter_table_chunks(io.BytesIO(EUROPEAN.encode("utf-8")), "in.csv", 10)),
    ]
    for frame in frames:
        assert list(frame.columns) == ["id", "code", "amount"]
        assert frame["code"].tolist() == ["007", "010", "A12"]
        assert frame["amount"].tolist()[:2] == [3.5, 4.0]


def test_text_columns_stay_text_in_every_chunk():
    body = b"code\n007\n010\n003\nA12\n"
    chunks = list(iter_table_chunks(io.BytesIO(body), "in.csv", 2, text_columns=["code"]))
    assert [chunk["code"].tolist() for chunk in chunks] == [["007", "010"], ["003", "A12"]]
    plain = parse_csv(b"n,code\n1,7\n2,10\n", text_columns=["code"])
    assert plain["code"].tolist() == ["7", "10"] and plain["n"].tolist() == [1, 2]


def test_a_given_separator_wins(write_csv):
    path = write_csv("a,b;c\n1,2;3\n")
    assert list(read_table(path, sep=",").columns) == ["a", "b;c"]
    assert list(read_table(path, sep=";").columns) == ["a,b", "c"]


def test_config_sep_is_one_character(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[data]\ntrain = "t.csv"\ntarget = "y"\nsep = ";"\n', encoding="utf-8")
    assert load_config(config).data.sep == ";"
    config.write_text('[data]\ntrain = "t.csv"\ntarget = "y"\nsep = ";;"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="data.sep must be one character"):
        load_config(config)


def test_a_semicolon_bom_file_trains_and_predicts_from_the_cli(binary_frames, tmp_path):
    train, holdout = binary_frames
    source = tmp_path / "train.csv"
    source.write_text("\ufeff" + train.to_csv(index=False, sep=";"), encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(
        main,
        ["train", "--data", str(source), "--target", "churned", "--output", str(tmp_path / "m")],
    )
    assert result.exit_code == 0, result.output
    artifact = result.output.strip().splitlines()[-1]
    rows = tmp_path / "rows.csv"
    rows.write_text(holdout.to_csv(index=False, sep="|"), encoding="utf-8")
    out = tmp_path / "out.csv"
    args = ["predict", "--model", artifact, "--input", str(rows), "--output", str(out)]
    result = runner.invoke(main, [*args, "--sep", "|"])
    assert result.exit_code == 0, result.output
    assert len(read_table(out)) == len(holdout)
    result = runner.invoke(main, [*args, "--sep", ";"])
    assert result.exit_code == 1 and "required feature is missing" in result.output
