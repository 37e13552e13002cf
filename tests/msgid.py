"""msgid.py - what the test helpers compute as scan does (docs/message-format.md):
the message id, the mtime text, the root/path fields, and the message_id
property of a body. Imported by
tests/amqp_tool.py, move_util.py, scan_check.py and faults/hostile/gen.py."""
import base64
import json
import struct


def fnv128(data):
    """FNV-1a, 128 bits, of data (bytes), as 32 lowercase hex digits."""
    h = 0x6C62272E07BB014262B821756295C58D
    for b in data:
        h = ((h ^ b) * 0x0000000001000000000000000000013B) & ((1 << 128) - 1)
    return "%032x" % h


def file_id(dev, ino, size, mtime_ns, root, path):
    """The id of a message for the file root/path (bytes) of that identity."""
    sec, nsec = divmod(mtime_ns, 10**9)
    return fnv128(struct.pack("<QQQqI", dev, ino, size, sec, nsec) + root + b"\0" + path)


def fmt_mtime(ns):
    """An mtime in nanoseconds as the message's "SECONDS.NANOSECONDS" text."""
    sign, a = ("-", -ns) if ns < 0 else ("", ns)
    return "%s%d.%09d" % (sign, a // 10**9, a % 10**9)


def put_name(m, key, b):
    """m[key] = b as text when it is UTF-8, else m[key + "_b64"] = its base64."""
    try:
        m[key] = b.decode("utf-8")
    except UnicodeDecodeError:
        m[key + "_b64"] = base64.b64encode(b).decode()


def body_id(body):
    """The body's "id" when it is a JSON object with a string id (scan's
    message_id property), else None."""
    try:
        o = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return o["id"] if isinstance(o, dict) and isinstance(o.get("id"), str) else None
