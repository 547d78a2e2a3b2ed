"""taimatsu.profiler: where the time goes, op by op (torch.profiler's API).

    from taimatsu.profiler import profile, record_function, ProfilerActivity

    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        with record_function("model_inference"):
            model(inputs)
    print(prof.key_averages().table(sort_by="cpu_time_total", row_limit=10))
    prof.export_chrome_trace("trace.json")

Ops appear as "taimatsu::<op>" (the op's Function class in snake_case: "taimatsu::mm",
"taimatsu::conv", "taimatsu::log_softmax") where PyTorch shows "aten::<op>". Every
`Function.apply` is timed on the host, nested inside the enclosing `record_function`
regions; an event's self time is its total minus its children's. Backward passes are
not split into per-node events: their time falls to the enclosing region.
"""

from ._collector import record_function
from ._events import EventList, FunctionEvent, FunctionEventAvg
from .profiler import (
    ProfilerAction,
    ProfilerActivity,
    profile,
    schedule,
    supported_activities,
    tensorboard_trace_handler,
)

__all__ = ["EventList", "FunctionEvent", "FunctionEventAvg", "ProfilerAction",
           "ProfilerActivity", "profile", "record_function", "schedule",
           "supported_activities", "tensorboard_trace_handler"]
