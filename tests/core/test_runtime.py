"""Runtime switches, backends, accelerator, cuda on a CPU-only setup, DataParallel, hub."""

import importlib.util
import sys
import warnings

import pytest

import taimatsu
import taimatsu.nn as nn
from taimatsu import _runtime

HAS_CUPY = importlib.util.find_spec("cupy") is not None
no_gpu = pytest.mark.skipif(taimatsu.cuda.is_available(), reason="checks the CPU-only path")


@pytest.fixture(autouse=True)
def restore_runtime():
    det = dict(_runtime._deterministic)
    precision = taimatsu.get_float32_matmul_precision()
    interop = _runtime._num_interop_threads[0]
    threads = taimatsu.get_num_threads()
    cudnn = dict(taimatsu.backends.cudnn.__dict__.get("_flag_values", {}))
    yield
    _runtime._deterministic.update(det)
    taimatsu.set_float32_matmul_precision(precision)
    _runtime._num_interop_threads[0] = interop
    taimatsu.set_num_threads(threads)
    taimatsu.backends.cudnn.__dict__["_flag_values"] = cudnn


# -- determinism -----------------------------------------------------------------------------------

def test_deterministic_algorithms_switch():
    assert not taimatsu.are_deterministic_algorithms_enabled()
    taimatsu.use_deterministic_algorithms(True)
    assert taimatsu.are_deterministic_algorithms_enabled()
    assert not taimatsu.is_deterministic_algorithms_warn_only_enabled()
    assert taimatsu.get_deterministic_debug_mode() == 2
    taimatsu.use_deterministic_algorithms(True, warn_only=True)
    assert taimatsu.is_deterministic_algorithms_warn_only_enabled()
    assert taimatsu.get_deterministic_debug_mode() == 1
    taimatsu.use_deterministic_algorithms(False)
    assert taimatsu.get_deterministic_debug_mode() == 0


def test_deterministic_algorithms_wants_bools():
    with pytest.raises(TypeError, match=r"argument 'mode' \(position 1\) must be bool, not int"):
        taimatsu.use_deterministic_algorithms(1)
    with pytest.raises(TypeError, match="argument 'warn_only' must be bool, not int"):
        taimatsu.use_deterministic_algorithms(True, warn_only=1)


def test_deterministic_debug_mode():
    taimatsu.set_deterministic_debug_mode("warn")
    assert taimatsu.are_deterministic_algorithms_enabled()
    assert taimatsu.is_deterministic_algorithms_warn_only_enabled()
    taimatsu.set_deterministic_debug_mode(2)
    assert taimatsu.get_deterministic_debug_mode() == 2
    taimatsu.set_deterministic_debug_mode("default")
    assert not taimatsu.are_deterministic_algorithms_enabled()
    with pytest.raises(RuntimeError, match="expected one of `default`, `warn`, `error`, but got x"):
        taimatsu.set_deterministic_debug_mode("x")
    with pytest.raises(RuntimeError, match="expected 0, 1, or 2, but got 5"):
        taimatsu.set_deterministic_debug_mode(5)
    with pytest.raises(TypeError, match="debug_mode must be str or int"):
        taimatsu.set_deterministic_debug_mode(1.0)


def test_alert_not_deterministic_raises_or_warns():
    _runtime._alert_not_deterministic("index_add_cuda_")  # off: nothing happens
    taimatsu.use_deterministic_algorithms(True)
    with pytest.raises(RuntimeError, match="index_add_cuda_ does not have a deterministic"):
        _runtime._alert_not_deterministic("index_add_cuda_")
    taimatsu.use_deterministic_algorithms(True, warn_only=True)
    with pytest.warns(UserWarning, match="does not have a deterministic implementation"):
        _runtime._alert_not_deterministic("index_add_cuda_")


# -- threads ---------------------------------------------------------------------------------------

def test_set_num_threads_limits_the_blas_pool():
    from threadpoolctl import threadpool_info
    taimatsu.set_num_threads(1)
    assert taimatsu.get_num_threads() == 1
    blas = [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]
    assert blas and all(n == 1 for n in blas)
    taimatsu.set_num_threads(2)
    assert taimatsu.get_num_threads() == 2


@pytest.mark.parametrize("fn", ["set_num_threads", "set_num_interop_threads"])
def test_thread_counts_are_validated(fn):
    with pytest.raises(RuntimeError, match=f"{fn} expects a positive integer"):
        getattr(taimatsu, fn)(0)
    with pytest.raises(RuntimeError, match=f"{fn} expects an int, but got float"):
        getattr(taimatsu, fn)(1.5)


def test_interop_threads_can_be_set_once():
    _runtime._num_interop_threads[0] = None
    assert taimatsu.get_num_interop_threads() >= 1
    taimatsu.set_num_interop_threads(3)
    assert taimatsu.get_num_interop_threads() == 3
    with pytest.raises(RuntimeError, match="cannot set number of interop threads"):
        taimatsu.set_num_interop_threads(2)


# -- float32 matmul precision / backends -----------------------------------------------------------

def test_matmul_precision_and_allow_tf32_mirror_each_other():
    assert taimatsu.get_float32_matmul_precision() == "highest"
    assert taimatsu.backends.cuda.matmul.allow_tf32 is False
    taimatsu.set_float32_matmul_precision("medium")
    assert taimatsu.backends.cuda.matmul.allow_tf32 is True
    taimatsu.backends.cuda.matmul.allow_tf32 = False
    assert taimatsu.get_float32_matmul_precision() == "highest"
    with pytest.warns(UserWarning, match="bad is not one of 'highest', 'high', or 'medium'"):
        taimatsu.set_float32_matmul_precision("bad")
    assert taimatsu.get_float32_matmul_precision() == "highest"


def test_cudnn_flags_persist_and_validate():
    cudnn = taimatsu.backends.cudnn
    assert (cudnn.enabled, cudnn.benchmark, cudnn.deterministic, cudnn.allow_tf32) == \
        (True, False, False, True)
    cudnn.benchmark = True
    cudnn.deterministic = True
    import taimatsu.backends.cudnn as again
    assert again.benchmark is True and again.deterministic is True
    with pytest.raises(RuntimeError, match="set_benchmark_cudnn expects a bool, but got int"):
        cudnn.benchmark = 1
    with pytest.raises(RuntimeError, match="Unknown precision: bad"):
        cudnn.fp32_precision = "bad"
    cudnn.some_script_attribute = 3  # a plain module attribute still works
    assert cudnn.some_script_attribute == 3
    del cudnn.some_script_attribute


def test_cudnn_flags_context_manager_restores():
    cudnn = taimatsu.backends.cudnn
    cudnn.benchmark = True
    with cudnn.flags(enabled=False, deterministic=True):
        assert cudnn.enabled is False and cudnn.deterministic is True
        assert cudnn.benchmark is False  # flags() sets every flag it names
    assert cudnn.enabled is True and cudnn.deterministic is False and cudnn.benchmark is True


@no_gpu
def test_cudnn_availability_on_cpu():
    cudnn = taimatsu.backends.cudnn
    assert cudnn.is_available() is False
    assert cudnn.version() is None
    assert cudnn.benchmark_limit is None
    assert cudnn.is_acceptable(taimatsu.zeros(1)) is False


def test_matmul_flags_object_refuses_unknown_names():
    matmul = taimatsu.backends.cuda.matmul
    with pytest.raises(AttributeError, match="Unknown attribute foo"):
        matmul.foo = 1
    with pytest.raises(AttributeError, match="Unknown attribute foo"):
        _ = matmul.foo
    with pytest.raises(RuntimeError, match="set_allow_tf32_cublas expects a bool"):
        matmul.allow_tf32 = 1
    matmul.allow_fp16_reduced_precision_reduction = False
    assert matmul.allow_fp16_reduced_precision_reduction is False
    matmul.allow_fp16_reduced_precision_reduction = True


def test_other_backends():
    b = taimatsu.backends
    assert b.mps.is_available() is False and b.mps.is_built() is False
    assert b.cuda.is_built() is HAS_CUPY
    assert isinstance(b.openmp.is_available(), bool)
    assert isinstance(b.mkl.is_available(), bool)
    assert b.mkldnn.is_available() is False
    with b.mkldnn.flags(enabled=False):
        assert b.mkldnn.enabled is False
    assert b.mkldnn.enabled is True


# -- accelerator -----------------------------------------------------------------------------------

@no_gpu
def test_accelerator_without_gpu():
    acc = taimatsu.accelerator
    assert acc.is_available() is False
    assert acc.device_count() == 0
    assert acc.current_accelerator(check_available=True) is None
    assert acc.current_accelerator() == (taimatsu.device("cuda") if HAS_CUPY else None)
    message = "Cannot access accelerator device when none is available."
    for call in (acc.current_device_index, acc.synchronize, acc.empty_cache,
                 acc.memory_allocated, lambda: acc.set_device_index(0)):
        with pytest.raises(RuntimeError, match=message):
            call()
    with pytest.raises(RuntimeError, match="Accelerator expected"):
        acc.set_device_index("cpu")
    with acc.device_index(None):  # None: nothing to switch
        pass
    with pytest.raises(RuntimeError, match=message):
        with acc.device_index(0):
            pass
    assert acc.current_device_idx is acc.current_device_index
    assert acc.set_device_idx is acc.set_device_index


def test_script_device_selection_idiom():
    acc = taimatsu.accelerator
    device = acc.current_accelerator().type if acc.is_available() else "cpu"
    x = taimatsu.ones(2, device=device)
    assert x.device.type == device


# -- cuda on a CPU-only setup ----------------------------------------------------------------------

@no_gpu
def test_cuda_queries_without_gpu():
    cuda = taimatsu.cuda
    assert cuda.is_available() is False and cuda.device_count() == 0
    assert cuda.is_initialized() is False
    cuda.manual_seed(0)
    cuda.manual_seed_all(0)
    cuda.seed()
    cuda.seed_all()
    cuda.empty_cache()
    assert cuda.memory_allocated() == 0 and cuda.max_memory_allocated() == 0
    assert cuda.memory_reserved() == 0 and cuda.max_memory_reserved() == 0
    assert cuda.memory_stats() == {}
    assert cuda.is_bf16_supported() is False
    with cuda.device(-1), cuda.device_of(taimatsu.zeros(1)):  # no-ops without a CUDA index
        pass


@no_gpu
def test_cuda_calls_needing_a_gpu_raise():
    cuda = taimatsu.cuda
    error = AssertionError if not HAS_CUPY else RuntimeError
    for call in (cuda.synchronize, cuda.current_device, cuda.init, cuda.get_device_name,
                 lambda: cuda.set_device(0), lambda: cuda.get_device_properties(0)):
        with pytest.raises(error, match="Torch not compiled with CUDA enabled"):
            call()
    with pytest.raises(ValueError, match="Expected a cuda device, but got: cpu"):
        cuda.set_device("cpu")
    assert issubclass(cuda.OutOfMemoryError, RuntimeError)


# -- DataParallel ----------------------------------------------------------------------------------

@no_gpu
def test_data_parallel_without_accelerator():
    taimatsu.manual_seed(0)
    model = nn.Linear(3, 2)
    dp = nn.parallel.DataParallel(model, device_ids=[0, 1])  # ignored without an accelerator
    assert dp.device_ids == []
    x = taimatsu.randn(4, 3)
    assert taimatsu.equal(dp(x), model(x))
    assert list(dp.state_dict()) == ["module.weight", "module.bias"]
    assert taimatsu.equal(nn.parallel.data_parallel(model, x), model(x))
    assert taimatsu.equal(nn.parallel.data_parallel(model, (x,), module_kwargs={}), model(x))


def test_data_parallel_forward_is_a_profiler_region():
    model = nn.parallel.DataParallel(nn.Linear(3, 2))
    with taimatsu.profiler.profile() as prof:
        model(taimatsu.randn(2, 3))
    names = [e.name for e in prof.events()]
    assert names[:2] == ["DataParallel.forward", "taimatsu::linear"]


# -- hub -------------------------------------------------------------------------------------------

def test_hub_without_the_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "taimatsu_hub", None)
    with pytest.raises(ImportError, match=r'pip install "taimatsu\[hub\]"'):
        taimatsu.hub.get_dir()


def test_hub_local_hubconf(tmp_path):
    (tmp_path / "hubconf_test_helper.py").write_text("SIZE = 5\n")
    (tmp_path / "hubconf.py").write_text(
        "dependencies = ['numpy']\n"
        "import taimatsu.nn as nn\nfrom hubconf_test_helper import SIZE\n"
        "def tiny(out=2):\n    return nn.Linear(SIZE, out)\n")
    model = taimatsu.hub.load(str(tmp_path), "tiny", 3, source="local")
    assert isinstance(model, nn.Linear) and model.weight.shape == (3, 5)
    with pytest.raises(RuntimeError, match="Cannot find callable nope in hubconf"):
        taimatsu.hub.load(str(tmp_path), "nope", source="local")
    (tmp_path / "hubconf.py").write_text("dependencies = ['no_such_pkg_xyz']\n")
    with pytest.raises(RuntimeError, match="Missing dependencies: no_such_pkg_xyz"):
        taimatsu.hub.load(str(tmp_path), "tiny", source="local")


def test_hub_source_and_repo_errors():
    with pytest.raises(ValueError, match='Unknown source: "web"'):
        taimatsu.hub.load("pytorch/vision", "resnet18", source="web")
    with pytest.raises(RuntimeError, match="runs no code downloaded from GitHub"):
        taimatsu.hub.load("someone/repo", "net")
    with pytest.raises(ValueError, match="repo_owner/repo_name"):
        taimatsu.hub.list("not-a-repo")


def test_hub_github_repo_taimatsu_provides():
    pytest.importorskip("taimatsu_hub")
    pytest.importorskip("taimatsu_vision")
    names = taimatsu.hub.list("pytorch/vision:v0.10.0")
    assert "resnet18" in names
    model = taimatsu.hub.load("pytorch/vision", "resnet18", num_classes=7)  # no weights asked
    assert model.fc.out_features == 7
    assert "resnet18" in taimatsu.hub.help("pytorch/vision", "resnet18")
    with pytest.raises(RuntimeError, match="Cannot find callable nonet in hubconf"):
        taimatsu.hub.load("pytorch/vision", "nonet")


def test_hub_dir_round_trip(tmp_path):
    pytest.importorskip("taimatsu_hub")
    import taimatsu_hub._dirs as dirs
    previous = dirs._hub_dir
    try:
        taimatsu.hub.set_dir(tmp_path)
        assert taimatsu.hub.get_dir() == str(tmp_path)
    finally:
        dirs._hub_dir = previous


# -- names scripts import --------------------------------------------------------------------------

def test_submodules_scripts_import():
    from taimatsu.testing import assert_close
    from taimatsu.utils.data.distributed import DistributedSampler
    from taimatsu.utils.data.sampler import RandomSampler, SequentialSampler
    assert callable(assert_close) and DistributedSampler and RandomSampler and SequentialSampler
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        import taimatsu.autograd.profiler as legacy
    assert legacy.record_function is taimatsu.profiler.record_function
