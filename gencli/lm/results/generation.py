"""Generated continuations of a prompt."""

from __future__ import annotations

from dataclasses import dataclass

from gencli.core.results import DataFile, Result, Table


@dataclass
class Generation(Result):
    """Continuations of a prompt."""

    prompt: str
    samples: list[str]
    settings: dict

    def to_dict(self) -> dict:
        return {"samples": self.samples, "prompt": self.prompt, **self.settings}

    def tables(self) -> list[Table]:
        return [
            Table(
                f"continuations of {self.prompt!r}",
                [("#", "d"), ("text", "")],
                [(i + 1, s) for i, s in enumerate(self.samples)],
            )
        ]

    def data_files(self) -> list[DataFile]:
        return [DataFile("samples", "samples.txt", content="\n\n".join(self.samples) + "\n")]

    def finding(self) -> str:
        how = (
            "greedy decoding"
            if self.settings.get("greedy")
            else f"sampling at temperature {self.settings.get('temperature', 1):g}"
        )
        return f"{len(self.samples)} continuation(s) of {self.prompt!r} by {how}."
