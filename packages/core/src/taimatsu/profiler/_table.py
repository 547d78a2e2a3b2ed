"""The text table of profiler events, laid out as PyTorch's: right-aligned columns of
width 12 (names, shapes and sources sized to fit), two spaces apart, "-" rules."""

from __future__ import annotations

from ._events import FunctionEventAvg, _format_memory, _format_share, _format_time

_WIDTH = 12


def _clip(text: str, width: int) -> str:
    return text[:width - 3] + "..." if len(text) >= width - 3 else text


def build_table(events, *, sort_by, row_limit, max_src_column_width, max_name_column_width,
                max_shapes_column_width, header, profile_memory, top_level_events_only,
                time_unit) -> str:
    if not events:
        return ""
    # Percentages are shares of all self time, before sorting, limiting or filtering.
    total_self = sum(e.self_cpu_time_total for e in events)
    rows = list(events)
    if sort_by is not None:
        rows.sort(key=lambda e: getattr(e, sort_by.replace("cuda", "device")), reverse=True)
    if top_level_events_only:
        rows = [e for e in rows if getattr(e, "cpu_parent", None) is None]
    if row_limit is not None and row_limit > 0:
        rows = rows[:row_limit]

    name_width = min(max(len(e.key) for e in events) + 4, max_name_column_width)
    show_shapes = any(e.input_shapes for e in events)
    # only averages grouped by stack frames (key_averages(group_by_stack_n=n)) show sources
    show_stack = any(isinstance(e, FunctionEventAvg) and e.stack for e in events)

    headers = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg"]
    widths = [name_width] + [_WIDTH] * 5
    if profile_memory:
        headers += ["CPU Mem", "Self CPU Mem"]
        widths += [_WIDTH] * 2
    headers.append("# of Calls")
    widths.append(_WIDTH)
    if show_shapes:  # never narrower than its header (PyTorch's header spills over)
        shapes_width = min(max(max(len(str(e.input_shapes)) for e in events) + 4,
                               len("Input Shapes")), max_shapes_column_width)
        headers.append("Input Shapes")
        widths.append(shapes_width)
    if show_stack:
        src_width = min(max(len(s) for e in events for s in e.stack) + 4,
                        max_src_column_width)
        headers.append("Source Location")
        widths.append(src_width)

    row_format = "".join(f"{{: >{w}}}  " for w in widths)
    rule = "".join("-" * w + "  " for w in widths)
    line_length = len(rule)
    lines = []
    if header is not None:
        lines += ["=" * line_length, header]
    if top_level_events_only:
        lines += ["=" * line_length, "This report only display top-level ops statistics"]
    lines += [rule, row_format.format(*headers), rule]

    for e in rows:
        cells = [_clip(e.key, name_width),
                 _format_share(e.self_cpu_time_total, total_self),
                 _format_time(e.self_cpu_time_total, time_unit),
                 _format_share(e.cpu_time_total, total_self),
                 _format_time(e.cpu_time_total, time_unit),
                 _format_time(e.cpu_time, time_unit)]
        if profile_memory:
            cells += [_format_memory(e.cpu_memory_usage), _format_memory(e.self_cpu_memory_usage)]
        cells.append(str(e.count))
        if show_shapes:
            cells.append(_clip(str(e.input_shapes), shapes_width))
        stack = list(e.stack) if show_stack else []
        if show_stack:
            cells.append(_clip(stack[0], src_width) if stack else "")
        lines.append(row_format.format(*cells))
        for frame in stack[1:]:  # further frames on their own lines, under Source Location
            lines.append(row_format.format(*([""] * (len(widths) - 1)),
                                           _clip(frame, src_width)))
    lines += [rule, f"Self CPU time total: {_format_time(total_self, time_unit)}"]
    return "\n".join(lines) + "\n"
