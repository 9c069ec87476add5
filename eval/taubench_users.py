"""The simulated customers of `shopassist eval taubench`: a deterministic scripted one and an LLM role-player.

`ScriptedCustomer` never reads a task's ground-truth actions, only its instruction: its first message is the
instruction in the first person; it answers a question about identity (e-mail, or name and zip) from the
instruction, answers yes to every write the agent proposes (the first time it is proposed: it never
bargains), and stops when the agent closes ("anything else?") or hands over to a human. Any other question
gets a fixed "that is all I know". `LLMCustomer` plays the instruction with the benchmark's role-play prompt
(prompts/taubench_user.md) on any backend, and stops when it says ###STOP###.

Knows customers' side of the conversation; nothing about records or the agent's internals.
"""
from __future__ import annotations

import re

import prompts
from assistant.errors import BackendError
from assistant.service import extract

STOP = "###STOP###"
USER_TIMEOUT_S = 600.0
IDK = "I have told you everything I know; please go ahead with what I asked."
_SWAPS = [
    (r"\byou're\b", "I'm"), (r"\bYou're\b", "I'm"), (r"\byou've\b", "I've"), (r"\bYou've\b", "I've"),
    (r"\byou'd\b", "I'd"), (r"\bYou'd\b", "I'd"), (r"\byou'll\b", "I'll"), (r"\bYou'll\b", "I'll"),
    (r"\bdo't\b", "don't"), (r"\byou are\b", "I am"), (r"\bYou are\b", "I am"), (r"\byou were\b", "I was"),
    (r"\byou have\b", "I have"), (r"\bYou have\b", "I have"), (r"\byourself\b", "myself"), (r"\byours\b", "mine"),
    (r"\byour\b", "my"), (r"\bYour\b", "My"), (r"\b(to|for|with|help|give|tell|ask|asks|call) you\b", r"\1 me"),
    (r"\byou\b", "I"), (r"\bYou\b", "I"), (r"\bI was\b", "I was"),
]
_CLOSING = re.compile(r"anything else (?:i|we) can|is there anything else|transferred you", re.I)
_IDENTITY = re.compile(r"e-?mail|zip|your (?:first |full )?name|verify who you are|find your account", re.I)
_PROPOSAL = re.compile(r"\bconfirm\b|\(yes/no\)|\byes\b", re.I)


def first_person(instruction: str) -> str:
    """'Your name is X. You want to ...' -> 'My name is X. I want to ...'."""
    text = instruction
    for pattern, repl in _SWAPS:
        text = re.sub(pattern, repl, text)
    return " ".join(text.split())


class ScriptedCustomer:
    name = "scripted"

    def __init__(self, instruction: str):
        self.instruction = instruction

    def first_message(self) -> str:
        return first_person(self.instruction)

    def reply(self, agent_text: str) -> str:
        if _PROPOSAL.search(agent_text) and not _CLOSING.search(agent_text):
            return "Yes."
        if _CLOSING.search(agent_text):
            return STOP
        if _IDENTITY.search(agent_text):
            return self.identity()
        return IDK

    def identity(self) -> str:
        emails = extract.emails(self.instruction)
        if emails:
            return "My e-mail is " + " or ".join(emails) + "."
        names = extract.names(self.instruction)
        zips = extract.zips(self.instruction)
        if names and zips:
            return f"My name is {names[0][0]} {names[0][1]} and my zip code is {zips[0]}."
        return "I don't remember."


class LLMCustomer:
    """Tau-bench's user rules (prompts/taubench_user.md) with the changes small models need (seen with
    qwen1.5b, which otherwise answers as the agent, refuses, ends the chat when asked for its zip code, or
    ends it when asked to confirm): a role-play framing with the conversation so far as one transcript in a
    single user message; a line saying to answer yes to a confirmation question; and the end marker offered
    only once the agent has closed ("anything else?") or handed over, so the customer cannot quit in the
    middle (the turn cap still ends a stuck conversation)."""

    name = "llm"

    def __init__(self, instruction: str, backend, temperature: float = 0.0, seed: int = 0, max_tokens: int = 80):
        self.backend, self.temperature, self.seed, self.max_tokens = backend, temperature, seed, max_tokens
        self.instruction = instruction
        self.lines: list[str] = []
        self.error = ""  # a backend failure ends the conversation and is reported, not raised

    def _next(self) -> str:
        can_stop = bool(self.lines) and bool(_CLOSING.search(self.lines[-1]))
        system = prompts.render("taubench_user.md", instruction=self.instruction, first=not self.lines,
                                can_stop=can_stop)
        if not self.lines:
            ask = ("The chat has not started. You are the customer: write your first message to the store's customer "
                   "service agent, saying what you need (only the message).")
        else:
            ask = ("Conversation so far:\n" + "\n".join(self.lines) + "\n\nWrite your next message as the customer "
                   "(only the message)" + (f", or {STOP}." if can_stop else "."))
        try:
            g = self.backend.generate([{"role": "system", "content": system},
                                       {"role": "user", "content": ask}], max_tokens=self.max_tokens,
                                      temperature=self.temperature, seed=self.seed + len(self.lines),
                                      timeout_s=USER_TIMEOUT_S)
        except BackendError as e:
            self.error = str(e)
            return STOP
        text = re.sub(r"^\s*(?:customer|user|you|me)\s*:\s*", "", g.text.strip(), flags=re.I)
        text = " ".join(text.splitlines()[0].split()).strip('"') if text.strip() else ""
        if STOP in text or not text:
            return STOP
        self.lines.append(f"You: {text}")
        return text

    def first_message(self) -> str:
        return self._next()

    def reply(self, agent_text: str) -> str:
        self.lines.append(f"Agent: {agent_text}")
        return self._next()
