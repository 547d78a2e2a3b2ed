"""LazyModuleMixin: modules whose parameter shapes are inferred from the first input.

How to write a lazy layer (LazyLinear in linear.py is the model; LazyConv2d follows it):

    class LazyConv2d(LazyModuleMixin, Conv2d):   # the mixin comes first
        cls_to_become = Conv2d                   # class the module turns into once built

        def __init__(self, out_channels, kernel_size, ..., device=None, dtype=None):
            # build the eager layer with in_channels 0 (cheap), then swap its parameters
            super().__init__(0, 0, kernel_size, ...)
            self.weight = UninitializedParameter(device=device, dtype=dtype)
            self.out_channels = out_channels
            if bias:
                self.bias = UninitializedParameter(device=device, dtype=dtype)

        def reset_parameters(self):
            # the eager __init__ calls this while the placeholders are not there yet
            if not self.has_uninitialized_params() and self.in_channels != 0:
                super().reset_parameters()

        def initialize_parameters(self, input):
            if self.has_uninitialized_params():
                with taimatsu.no_grad():
                    self.in_channels = input.shape[1]
                    self.weight.materialize((self.out_channels, self.in_channels // groups, *k))
                    if self.bias is not None:
                        self.bias.materialize((self.out_channels,))
                    self.reset_parameters()

The mixin registers a forward pre-hook that calls `initialize_parameters(*args, **kwargs)`
before the first forward, then removes itself and changes the instance's class to
`cls_to_become`. A load_state_dict pre-hook materializes placeholders to the checkpoint's
shapes, so a lazy module can also be built by loading a state_dict. Uninitialized
parameters are kept as they are (not detached) in state_dict.
"""

from __future__ import annotations

import itertools

from ..parameter import is_lazy

# Not re-exported by taimatsu.nn (as in PyTorch): import it from taimatsu.nn.modules.lazy.
__all__: list[str] = []


class LazyModuleMixin:
    """Mixin for modules that infer parameter shapes on their first forward (see above)."""

    cls_to_become = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._load_hook = self._register_load_state_dict_pre_hook(self._lazy_load_hook)
        self._initialize_hook = self.register_forward_pre_hook(self._infer_parameters,
                                                               with_kwargs=True)

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = (param if is_lazy(param) or keep_vars
                                              else param.detach())
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buf if is_lazy(buf) or keep_vars else buf.detach()

    def _lazy_load_hook(self, state_dict, prefix, local_metadata, strict, missing_keys,
                        unexpected_keys, error_msgs):
        """Gives placeholders the checkpoint's shapes so the ordinary copy can follow."""
        from ...autograd.grad_mode import no_grad
        for name, param in itertools.chain(self._parameters.items(), self._buffers.items()):
            key = prefix + name
            if key in state_dict and param is not None and is_lazy(param):
                value = state_dict[key]
                if not is_lazy(value):
                    with no_grad():
                        param.materialize(tuple(value.shape))

    def initialize_parameters(self, *args, **kwargs):
        """Materializes the placeholders from the first forward's arguments."""
        raise NotImplementedError("initialize_parameters is not implemented for "
                                  f"{type(self).__name__}")

    def has_uninitialized_params(self) -> bool:
        return any(is_lazy(t) for t in itertools.chain(self._parameters.values(),
                                                         self._buffers.values()))

    def _infer_parameters(self, module, args, kwargs=None):
        module.initialize_parameters(*args, **(kwargs or {}))
        if module.has_uninitialized_params():
            raise RuntimeError(f"module {self._get_name()} has not been fully initialized")
        module._initialize_hook.remove()
        module._load_hook.remove()
        delattr(module, "_initialize_hook")
        delattr(module, "_load_hook")
        if module.cls_to_become is not None:
            module.__class__ = module.cls_to_become

    def _replicate_for_data_parallel(self):
        raise RuntimeError("Modules with uninitialized parameters can't be used with "
                           "`DataParallel`. Run a dummy forward pass to correctly initialize "
                           "the modules")
