"""`taimatsu hub list | help NAME | download REPO [FILE] | load NAME_OR_REPO`."""

from __future__ import annotations

import sys


def add_commands(subparsers) -> None:
    hub = subparsers.add_parser("hub", help="pretrained models: list, help, download, load")
    sub = hub.add_subparsers(dest="hub_command", required=True)

    p = sub.add_parser("list", help="registered model names")
    p.add_argument("--domain", help="only this domain (vision, text, audio, ...)")
    p.set_defaults(func=_guarded(cmd_list))

    p = sub.add_parser("help", help="a model's documentation, weights and preprocessing")
    p.add_argument("name")
    p.set_defaults(func=_guarded(cmd_help))

    p = sub.add_parser("download", help="fetch a Hub repository's model files (or one file) "
                                        "into the Hugging Face cache; prints the path")
    p.add_argument("repo_id")
    p.add_argument("filename", nargs="?")
    _hub_options(p)
    p.set_defaults(func=_guarded(cmd_download))

    p = sub.add_parser("load", help="build a model (registered name, folder or Hub repo) "
                                    "and summarise it")
    p.add_argument("name_or_repo")
    weights = p.add_mutually_exclusive_group()
    weights.add_argument("--weights", default="DEFAULT",
                         help="weights name for a registered model (default: DEFAULT)")
    weights.add_argument("--no-weights", dest="weights", action="store_const", const=None,
                         help="random initialisation")
    p.add_argument("--trust-remote-code", action="store_true",
                   help="allow repositories whose config asks for custom code (their code "
                        "is still never executed)")
    _hub_options(p)
    p.set_defaults(func=_guarded(cmd_load))


def _hub_options(p) -> None:
    p.add_argument("--revision")
    p.add_argument("--cache-dir")
    p.add_argument("--endpoint", help="another Hub server (default: HF_ENDPOINT)")
    p.add_argument("--token")
    p.add_argument("--local-files-only", action="store_true", default=None,
                   help="use the Hugging Face cache only")
    p.add_argument("--force-download", action="store_true")
    p.add_argument("--no-progress", dest="progress", action="store_false")


def _hub_kwargs(args) -> dict:
    return {"revision": args.revision, "cache_dir": args.cache_dir,
            "endpoint": args.endpoint, "token": args.token,
            "local_files_only": args.local_files_only, "force_download": args.force_download,
            "progress": args.progress}


def _guarded(command):
    """User mistakes (unknown names, missing files, refused repos) end in one error line."""
    def run(args) -> int:
        try:
            return command(args)
        except (ValueError, OSError, TypeError) as exc:
            print(f"taimatsu hub {args.hub_command}: error: {exc}", file=sys.stderr)
            return 1
    return run


def cmd_list(args) -> int:
    import taimatsu_hub
    for name in taimatsu_hub.list(domain=args.domain):
        print(name)
    return 0


def cmd_help(args) -> int:
    import taimatsu_hub
    print(taimatsu_hub.help(args.name), end="")
    return 0


def cmd_download(args) -> int:
    import taimatsu_hub
    print(taimatsu_hub.download(args.repo_id, args.filename, **_hub_kwargs(args)))
    return 0


def cmd_load(args) -> int:
    import taimatsu_hub
    model = taimatsu_hub.load(args.name_or_repo, weights=args.weights,
                              trust_remote_code=args.trust_remote_code, **_hub_kwargs(args))
    count = sum(p.numel() for p in model.parameters())
    print(model)
    print(f"{type(model).__name__}: {count:,} parameters")
    return 0
