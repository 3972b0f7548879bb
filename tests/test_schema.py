"""The committed schema.graphql is what ``ghostfolio-plaid export-schema`` writes: a contract change is deliberate."""

import subprocess
from pathlib import Path

from tests.processes import command

SNAPSHOT = Path(__file__).parents[1] / "schema.graphql"


def test_committed_schema_is_current(tmp_path: Path) -> None:
    output = tmp_path / "schema.graphql"
    subprocess.run([*command("export-schema", "--output", str(output))], check=True, capture_output=True)
    assert output.read_text() == SNAPSHOT.read_text(), "run `ghostfolio-plaid export-schema` and commit it"
