"""Parsing records: the per-process record memo, and parsing on two cores.

Every record parses on its own, so a large registry is parsed partly in a
forked worker process (see :func:`parse_ahead`); each distinct record file is
parsed once per process (see ``_RECORD_MEMO``).
"""

from __future__ import annotations

import atexit
import gc
import hashlib
import logging
import os
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from typing import Any, TypeVar

from pydantic import BaseModel

from registry_gen.errors import RecordError
from registry_gen.schema import parse_record, validate_document
from registry_gen.yamlio import YamlDocument, parse_yaml

log = logging.getLogger(__name__)

# Records already parsed in this process, by (schema, file, digest of the bytes). The base and the
# head of a pull request share nearly every record file, and `mkdocs serve` reloads the
# registry on every edit, so each distinct file is parsed and validated once. Records
# are immutable, like the indexes that share them (see _GIT_INDEX_MEMO); errors are not
# memoised. Ordered from least to most recently used. Bounded so a long-lived process
# does not grow without end, but only between loads (see trim_records): a load never
# evicts its own records, which would parse them twice (issue 16: at 100,000 versions,
# 420,003 validations where 210,000 would do). Keyed by a digest, not the bytes: the
# bytes would keep every record's text alive as long as its record (120 MB at 100,000
# versions), and BLAKE2 costs about a microsecond a record.
_RECORD_MEMO: dict[tuple[type[BaseModel], str, bytes], BaseModel] = {}
_RECORD_MEMO_LIMIT = 100_000


def _key(schema: type[BaseModel], file: str, blob: bytes) -> tuple[type[BaseModel], str, bytes]:
    return schema, file, hashlib.blake2b(blob, digest_size=16).digest()


RecordT = TypeVar("RecordT", bound=BaseModel)


def parse_record_memo(blob: bytes, file: str, schema: type[RecordT]) -> RecordT:
    """:func:`registry_gen.schema.parse_record`, once per distinct (schema, file, bytes).

    Raises:
        RecordError: the record cannot be read (never memoised).
    """
    key = _key(schema, file, blob)
    record = _RECORD_MEMO.pop(key, None)  # put back last: the most recently used
    if record is None:
        record = parse_record(blob, file, schema)
    _RECORD_MEMO[key] = record
    return record  # type: ignore[return-value]  # stored under its own schema


def trim_records(just_used: int) -> None:
    """After a load that used ``just_used`` records: keep at most the limit, never fewer.

    The records a load used are the most recently used ones, so the memo keeps
    them all, even past the limit: they are the ones its index holds anyway,
    and the next load (the other side of a pull request, `mkdocs serve` after
    an edit) mostly needs them again. Older ones go first.
    """
    keep = max(_RECORD_MEMO_LIMIT, just_used)
    if len(_RECORD_MEMO) > keep:
        newest = list(_RECORD_MEMO.items())[-keep:]
        _RECORD_MEMO.clear()
        _RECORD_MEMO.update(newest)


@atexit.register
def _forget_records() -> None:
    """Free the memoised records before the interpreter shuts down.

    Shutdown runs the cyclic collector several times over everything still
    alive: with the 21,000 records of a 10,000-version registry memoised, that
    is about two seconds after a command has finished; freeing them here by
    reference counting takes a tenth of one.
    """
    _RECORD_MEMO.clear()


# ---------------------------------------------------------------------------
# Parsing on two cores

# Parsing is most of loading a large registry, and every record parses on its own: from
# this many records on, build_index has a forked worker process parse part of them on
# another core while this process parses the rest (loading 21,000 records took 20 %
# less wall time, 4.3 → 3.5 s, on 2 cores with the other one partly busy; about 15 %
# more CPU in all). Below it, starting the worker costs more than it saves.
PARALLEL_MIN_RECORDS = 2_000
# This process parses this share: it also validates and unpickles the worker's share.
_OWN_SHARE = 0.45

ParseJob = tuple[type[BaseModel], str]  # (schema, file) of one record to parse


def _fork_is_safe() -> bool:
    """Whether a worker may be forked: Linux (fork is the safe default there), a
    single-threaded process (a fork copies locks other threads may hold) and a second
    CPU to run it on."""
    if sys.platform != "linux":
        return False
    import threading

    return threading.active_count() == 1 and len(os.sched_getaffinity(0)) > 1


def parse_ahead(jobs: Iterable[ParseJob], blobs: Mapping[str, bytes]) -> int:
    """Parse records into the memo ahead of the build, part of them in a forked worker.

    Only a speed-up: the build then takes each record from the memo or parses it
    itself, so its records, errors and their order are the same with or without
    the worker. Records that fail are left to the build (errors are never
    memoised), which reports them with file and line. The worker sends back the
    parsed YAML as plain data, validated here: pickling pydantic records costs
    about three times as much. It sends it in batches, which this process takes
    in between its own records, so no more than a batch of plain data is held at
    once whatever the size of the registry. Returns how many records the worker parsed.
    """
    todo = [
        (schema, file)
        for schema, file in jobs
        if file in blobs and _key(schema, file, blobs[file]) not in _RECORD_MEMO
    ]
    if len(todo) < PARALLEL_MIN_RECORDS or not _fork_is_safe():
        return 0
    import multiprocessing

    split = int(len(todo) * _OWN_SHARE)
    mine, theirs = todo[:split], todo[split:]
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    worker = context.Process(
        target=_parse_yaml_worker,
        daemon=True,
        args=(sender, [(file, blobs[file]) for _, file in theirs]),
    )
    try:
        worker.start()
    except (OSError, AssertionError):  # no fork left, or this is a daemonic worker itself
        receiver.close()
        sender.close()
        return 0
    sender.close()
    batches = _Batches(receiver, theirs, blobs)
    try:
        for done, (schema, file) in enumerate(mine):
            with suppress(RecordError):  # the build reports it
                parse_record_memo(blobs[file], file, schema)
            if done % _POLL_EVERY == 0:
                batches.take(wait=False)
        batches.take(wait=True)
    finally:
        receiver.close()
        if not batches.finished:  # interrupted (Ctrl-C) or failed here: do not wait for it
            worker.terminate()
        worker.join()
    return batches.parsed


# The worker sends its parsed YAML this many records at a time (a few MB of plain data),
# and this process looks for a batch every this many records of its own.
_BATCH = 1_000
_POLL_EVERY = 50


class _Batches:
    """The worker's batches as they arrive: each validated into the memo, then dropped."""

    def __init__(self, receiver: Any, theirs: list[ParseJob], blobs: Mapping[str, bytes]) -> None:
        self.receiver, self.theirs, self.blobs = receiver, theirs, blobs
        self.parsed = 0
        self.finished = False

    def take(self, *, wait: bool) -> None:
        """Validate the batches that have arrived (``wait``: and the rest, to the last)."""
        while not self.finished and (wait or self.receiver.poll()):
            try:
                batch = self.receiver.recv()
            except (EOFError, OSError):
                log.debug("the parsing worker stopped early; parsing its records here")
                self.finished = True
                return
            if batch is None:  # the worker's last word
                self.finished = True
                return
            self._validate(batch)

    def _validate(self, batch: dict[int, Any]) -> None:
        self.parsed += len(batch)
        for position, data in batch.items():
            schema, file = self.theirs[position]
            try:
                record = validate_document(YamlDocument(data, {}, file), schema)
            except RecordError:
                continue  # the build parses it again and reports it with its line
            _RECORD_MEMO[_key(schema, file, self.blobs[file])] = record


def _parse_yaml_worker(sender: Any, files: list[tuple[str, bytes]]) -> None:
    """In the forked worker: the parsed YAML of each file that parses, by position, in
    batches of :data:`_BATCH`, then None."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    batch: dict[int, Any] = {}
    try:
        for position, (file, blob) in enumerate(files):
            try:
                batch[position] = parse_yaml(blob, file, lines=False).data
            except RecordError:
                continue
            if len(batch) >= _BATCH:
                sender.send(batch)
                batch = {}
        sender.send(batch)
        sender.send(None)
    except OSError:
        pass  # the parent stopped listening (interrupted): it has nothing to wait for
    finally:
        sender.close()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while records are parsed.

    Parsing 10,000 records allocates about a million objects that all stay
    alive, and every few thousand allocations the collector walks them all
    again: a quarter of the load, freeing nothing (records hold no reference
    cycles). Reference counting frees memory as usual meanwhile. Callers that
    keep a whole index only for a while (the validator) pause it for that while.
    """
    if not gc.isenabled():
        yield  # already paused by the caller: leave it as it is
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
