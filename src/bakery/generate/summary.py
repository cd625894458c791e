"""What a generator run wrote: the summary the CLI prints and tests inspect."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path


@dataclass
class GenerateSummary:
    """Result of `generate_demo`: where the files are, how many rows each source got, which defects."""

    out: Path
    stores: int
    products: int
    start: date
    end: date
    seed: int
    rows: dict[str, int]
    files: int
    late_files: list[Path]
    truth_path: Path
    defects_path: Path
    defects: dict[str, int] = field(default_factory=dict)

    def render(self) -> str:
        rows = ", ".join(f"{k} {v:,}" for k, v in sorted(self.rows.items()))
        defects = ", ".join(f"{k} {v}" for k, v in sorted(self.defects.items()) if v)
        lines = [
            f"Demo data in {self.out}: {self.stores} stores x {self.products} products, "
            f"{self.start}..{self.end}, seed {self.seed}",
            f"  files: {self.files} ({len(self.late_files)} late, under {self.out / '_late'})",
            f"  rows: {rows}",
            f"  defects: {defects or 'none'}",
            f"  truth: {self.truth_path} (defect locations: {self.defects_path})",
        ]
        return "\n".join(lines)
