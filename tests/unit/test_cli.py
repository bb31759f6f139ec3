import subprocess
import sys


def labkit(*args):
    return subprocess.run([sys.executable, "-m", "labkit.cli", *args], capture_output=True, text=True, timeout=120)


def test_every_subcommand_is_wired():
    out = labkit("--help").stdout
    for name in ("ps", "stop", "start", "status", "env", "doctor", "lab", "certify", "verify", "plugin", "audit", "hsm", "test"):
        assert name in out, name


def test_delegated_subcommands_reach_their_parsers():
    assert "register" in labkit("plugin", "--help").stdout
    assert "--last" in labkit("audit", "--help").stdout


def test_bad_input_gets_a_fix_and_a_failing_status(tmp_path):
    for args, words in ((("stop",), "labkit stop NAME"), (("audit", "nosuch"), "labkit ps"),
                        (("env", "nosuch"), "labkit start nosuch")):
        out = labkit(*args)
        assert out.returncode != 0 and words in out.stderr, (args, out.stderr)
    out = labkit("verify", str(tmp_path / "missing-bundle"))
    assert out.returncode != 0
