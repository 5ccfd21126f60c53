"""The CLI shell: help in Indonesian, instant start, clean failures."""

import subprocess
import sys

import pytest
from click.testing import CliRunner

from pipeline.cli import cli

COMMANDS = ["template", "demo", "run", "check", "rules"]
HEAVY = ("pandas", "numpy", "great_expectations", "openpyxl", "xlsxwriter", "python_calamine")


def test_help_imports_nothing_heavy():
    """`rbpipe --help` must answer at once: the CLI module may not import heavy libraries."""
    code = (
        "import sys, pipeline.cli\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_indonesian_help_with_an_example_or_description(command):
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0
    assert "Penggunaan: rbpipe" in result.output
    assert "Tampilkan bantuan ini lalu keluar." in result.output
    assert "Show this message" not in result.output
    doc = cli.commands[command].help
    assert doc and len(doc) > 40


def test_group_help_lists_every_command():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for command in COMMANDS:
        assert command in result.output


def test_missing_period_is_a_usage_error_in_indonesian():
    result = CliRunner().invoke(cli, ["run"])
    assert result.exit_code == 2
    assert "Opsi wajib belum diberikan '--period'" in result.output


def test_bad_period_is_rejected_with_the_expected_format():
    result = CliRunner().invoke(cli, ["template", "--period", "2025-13", "--out", "x"])
    assert result.exit_code == 2
    assert "gunakan format YYYY-MM" in result.output


def test_run_without_month_folder_cannot_run(tmp_path):
    result = CliRunner().invoke(
        cli,
        ["run", "--period", "2025-10", "--inputs", str(tmp_path), "--outputs", str(tmp_path / "o")],
    )
    assert result.exit_code == 2
    assert result.output.startswith("Gagal: Folder kiriman")
    assert "Traceback" not in result.output


def test_rules_lists_codes_with_indonesian_titles():
    result = CliRunner().invoke(cli, ["rules"])
    assert result.exit_code == 0
    assert "RB-E001  [Kesalahan]  Bukan berkas lembar kerja" in result.output
