"""The README's shell blocks, and a terminal to run them in against the test stack.

A block is what a reader pastes at once: ```sh, ```bash, ```shell, ```console (its `$ ` lines) or an unlabelled
fence. Blocks of one section run in one terminal: a variable a block sets (`OPS=...`, `export X=...`) is
there for the next block, as in a reader's shell."""

import asyncio
import os
import re
import signal
from dataclasses import dataclass
from pathlib import Path

from markdown_it import MarkdownIt

README = Path(__file__).resolve().parents[2] / "README.md"
SHELL_LANGUAGES = {"", "sh", "bash", "shell", "console"}
PLACEHOLDER = re.compile(r"<[A-Za-z][A-Za-z_ ]*>")
ASSIGNED = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=", re.MULTILINE)
BLOCK_TIMEOUT_SECONDS = 120


@dataclass(frozen=True)
class Block:
    section: str
    text: str

    @property
    def placeholders(self) -> set[str]:
        return set(PLACEHOLDER.findall(self.text))


def shell_blocks(section: str, readme: Path = README) -> list[Block]:
    """The shell blocks under the level-2 heading that starts with `section`, up to the next level-2 heading."""
    blocks, current = [], None
    tokens = MarkdownIt().parse(readme.read_text())
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag == "h2":
            current = tokens[i + 1].content
        elif token.type == "fence" and current is not None and current.startswith(section):
            language = token.info.strip().split(" ")[0]
            if language in SHELL_LANGUAGES:
                text = token.content
                if language == "console":
                    text = "\n".join(line[2:] for line in text.splitlines() if line.startswith("$ "))
                blocks.append(Block(section, text))
    return blocks


def refused_curls(block: Block) -> list[str]:
    """The `curl` commands of a block that would exit 0 on an HTTP error (no -f / --fail / --fail-with-body)."""
    commands = re.split(r"(?<!\\)\n", block.text)
    return [c for c in commands if re.search(r"\bcurl\b", c) and not re.search(r"\s(-[a-zA-Z]*f[a-zA-Z]*|--fail(-with-body)?)\b", c)]


@dataclass
class Terminal:
    """A reader's terminal: a working directory with the checkout's `.venv` (and `make run`'s `.data`), the
    environment `make run` would give the CLIs, and README addresses (and order ids) rewritten to the test stack's."""

    cwd: Path
    env: dict[str, str]
    rewrites: dict[str, str]

    @property
    def state(self) -> Path:
        return self.cwd / ".readme-shell-state"

    async def run(self, block: Block, fill: dict[str, str] | None = None) -> str:
        """Run a block with `set -euo pipefail`; its stdout, or AssertionError with its output when it fails."""
        text = block.text
        for placeholder, value in (fill or {}).items():
            assert PLACEHOLDER.fullmatch(placeholder), placeholder
            text = text.replace(placeholder, value)
        left = PLACEHOLDER.findall(text)
        assert not left, f"the test does not know how to fill {left} in:\n{block.text}"
        if self.rewrites:  # in one pass: a rewritten value may contain another README value (walk-3 in walk-3f0c…)
            readme_values = re.compile("|".join(re.escape(v) for v in sorted(self.rewrites, key=len, reverse=True)))
            text = readme_values.sub(lambda found: self.rewrites[found.group(0)], text)
        names = " ".join(dict.fromkeys(ASSIGNED.findall(text)))
        script = f"set -euo pipefail\n[ -f {self.state.name} ] && source {self.state.name}\n{text}\n"
        if names:
            script += f"declare -p {names} >> {self.state.name}\n"
        code, out, err = await self._bash(script)
        assert code == 0, f"README block exited {code}:\n{block.text}\n--- stdout\n{out}\n--- stderr\n{err}"
        return out

    async def value(self, name: str) -> str:
        """A variable as the blocks left it in the terminal."""
        code, out, err = await self._bash(f"source {self.state.name}; printf '%s' \"${{{name}}}\"")
        assert code == 0, err
        return out

    async def _bash(self, script: str) -> tuple[int, str, str]:
        process = await asyncio.create_subprocess_exec(
            "bash",
            "-c",
            script,
            cwd=self.cwd,
            env=self.env,
            start_new_session=True,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(process.communicate(), BLOCK_TIMEOUT_SECONDS)
        except TimeoutError:
            raise AssertionError(f"a README block ran longer than {BLOCK_TIMEOUT_SECONDS} s:\n{script}") from None
        finally:
            try:
                os.killpg(process.pid, signal.SIGKILL)  # whatever the block left running in its process group
            except ProcessLookupError:
                pass
            await process.wait()
        return process.returncode, out.decode(), err.decode()
