"""The repository carries what its tests and docs need: nothing may reach outside it, and no secrets are tracked."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
PLAID_SPEC = REPO_ROOT / "specs" / "plaid" / "2020-09-14.yml"
PLAID_SPEC_SHA256 = "fb8c3f188d8b1c917f2b184b720a96361f2ee72f5d595d189e8b4513a1d62930"


def tracked_files() -> list[str]:
    listing = subprocess.run(["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    return listing.stdout.splitlines()


def test_plaid_spec_is_committed_verbatim_with_its_license() -> None:
    assert hashlib.sha256(PLAID_SPEC.read_bytes()).hexdigest() == PLAID_SPEC_SHA256
    assert "MIT License" in (PLAID_SPEC.parent / "LICENSE").read_text()
    assert "specs/plaid/2020-09-14.yml" in tracked_files()


def test_the_rest_contract_lives_in_the_repository() -> None:
    contract = (REPO_ROOT / "docs" / "rest-contract.md").read_text()
    assert "POST /exchange-token" in contract
    assert "docs/rest-contract.md" in (REPO_ROOT / "README.md").read_text()


def test_nothing_tracked_reads_or_links_outside_the_repository() -> None:
    outside = "../" + "shared"
    offenders = []
    for name in tracked_files():
        path = REPO_ROOT / name
        readable = path.suffix in {".py", ".md", ".toml", ".cfg", ".sh", ""} and path.is_file()
        if readable and outside in path.read_text(errors="replace"):
            offenders.append(name)
    assert offenders == []


def test_no_environment_files_with_secrets_are_tracked() -> None:
    tracked = tracked_files()
    assert [name for name in tracked if name.endswith(".env") or "/.env" in name or name.startswith(".env")] == []
    for path in (".data/dev.env", "config/prod.env", ".env"):
        assert subprocess.run(["git", "check-ignore", "-q", path], cwd=REPO_ROOT, check=False).returncode == 0
