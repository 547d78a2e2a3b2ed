"""Atomic replacement of a file: the new content goes to a temporary file in the same
folder, is fsync'ed, and is renamed over the target, so a crash or a kill at any moment
leaves either the old file or the new one, never a half-written one.

On Linux the temporary is an unnamed file (O_TMPFILE) that only gets a name once it is
complete, so a SIGKILL during the write leaves nothing behind either.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import secrets
import stat
import sys

_CAN_LINK_UNNAMED = (hasattr(os, "O_TMPFILE") and os.link in os.supports_dir_fd
                     and os.path.isdir("/proc/self/fd"))


def _keep_mode(fd: int, path: str) -> None:
    """Gives the new file the permissions of the file it replaces, as rewriting would."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return
    if hasattr(os, "fchmod"):
        os.fchmod(fd, mode)


def _fsync_directory(directory: str) -> None:
    """Makes a rename in `directory` durable (where the platform allows it)."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on a directory
    finally:
        os.close(fd)


class _Temp:
    """A temporary file beside `path`, committed by rename or discarded."""

    def __init__(self, path: str):
        self.path = path
        self.directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(self.directory):
            raise RuntimeError(f"Parent directory {self.directory} does not exist.")
        self.temp: str | None = None  # its path, once it has one
        self.fd = self._create()

    def _temp_name(self) -> str:
        return os.path.join(self.directory,
                            f".{os.path.basename(self.path)}.{secrets.token_hex(6)}.tmp")

    def _create(self) -> int:
        if _CAN_LINK_UNNAMED:
            try:
                return os.open(self.directory, os.O_TMPFILE | os.O_WRONLY, 0o666)
            except OSError:
                pass  # this file system has no unnamed files: use a named one
        while True:
            name = self._temp_name()
            try:
                # mode 0o666 leaves the permissions to the umask, as open(path, "wb") does
                fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            except FileExistsError:
                continue
            self.temp = name
            return fd

    def commit(self) -> None:
        os.fsync(self.fd)
        _keep_mode(self.fd, self.path)
        if self.temp is None:
            self._link_unnamed()
        os.replace(self.temp, self.path)
        self.temp = None
        _fsync_directory(self.directory)

    def _link_unnamed(self) -> None:
        # linkat(AT_SYMLINK_FOLLOW) through /proc gives the unnamed file a name; os.link
        # only calls linkat (and follows the link) when a dir_fd is given.
        dirfd = os.open(self.directory, os.O_RDONLY)
        try:
            while True:
                name = self._temp_name()
                try:
                    os.link(f"/proc/self/fd/{self.fd}", name, dst_dir_fd=dirfd,
                            follow_symlinks=True)
                except FileExistsError:
                    continue
                self.temp = name
                return
        finally:
            os.close(dirfd)

    def close(self) -> None:
        """Closes the file and removes the temporary if it was not committed."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        if self.temp is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.temp)
            self.temp = None


_SYNC_FILE_RANGE_WRITE = 2
_sync_file_range = None


def start_writeback(f) -> None:
    """Starts writing `f`'s dirty pages to disk without waiting (Linux sync_file_range).

    Called as big records are written, it lets the disk work while the next records are
    produced, so the final fsync finds little left to do (and the kernel does not
    throttle a writer with a pile of dirty pages).
    """
    global _sync_file_range
    if _sync_file_range is None:
        _sync_file_range = False
        if sys.platform.startswith("linux"):
            try:
                fn = ctypes.CDLL(None, use_errno=True).sync_file_range
                fn.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
                _sync_file_range = fn
            except (OSError, AttributeError):
                pass
    if _sync_file_range:
        f.flush()
        _sync_file_range(f.fileno(), 0, 0, _SYNC_FILE_RANGE_WRITE)


def _target(path) -> str:
    path = os.fspath(path)
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    # Write through a symlink as open(path, "wb") would, instead of replacing the link.
    return os.path.realpath(path) if os.path.islink(path) else path


@contextlib.contextmanager
def atomic_write(path, buffering: int = 1 << 20):
    """Yields a binary file; when the block ends without error its content replaces `path`.

    Targets that are not regular files (/dev/null, a FIFO) are written in place: renaming
    over them would replace the device node itself.
    """
    path = _target(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    if st is not None and not stat.S_ISREG(st.st_mode):
        with open(path, "wb") as f:
            yield f
        return
    temp = _Temp(path)
    try:
        with open(temp.fd, "wb", buffering=buffering, closefd=False) as f:
            yield f
        temp.commit()
    finally:
        temp.close()


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary path beside `path` for an outside writer (e.g. a library that
    takes a file name); when the block ends without error that file is fsync'ed and
    replaces `path` atomically. On error it is removed."""
    path = _target(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise RuntimeError(f"Parent directory {directory} does not exist.")
    temp = os.path.join(directory, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    try:
        yield temp
        fd = os.open(temp, os.O_RDONLY)
        try:
            os.fsync(fd)
            _keep_mode(fd, path)
        finally:
            os.close(fd)
        os.replace(temp, path)
        _fsync_directory(directory)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
