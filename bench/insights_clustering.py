"""Clustering of unanswered questions, measured on labelled questions nobody here wrote: before vs now.

Each scenario is a pile of "unanswered questions" with known topics: N intents of CLINC150 or Banking77 with
skewed sizes (2 to 20 questions each, like real days) plus out-of-scope one-offs (each its own topic), 30 draws;
and the customers' own words of bench/customer_sets/ (FAQ questions labelled by entry, German and English mixed,
plus out-of-scope one-offs). Figures: adjusted Rand index (scikit-learn; 1 = the true grouping, 0 = chance),
purity (share of questions in a cluster whose majority topic is theirs: what an operator reads in one row),
purity of the five largest clusters (what they read first), and clusters per true topic.
Also: requests for a person or a call among the customers' words that the insight page keeps out of the
"unanswered questions" (handoff/services/question_kinds.py), and real questions it wrongly keeps out.

Development (thresholds chosen here): CLINC150 `train`, customer sets dev + dev2. Reported only: CLINC150 `val`,
Banking77, customer sets final + final2.
Usage: OMP_NUM_THREADS=1 nice -n 19 .venv/bin/python bench/insights_clustering.py [--sweep] [--draws 30]
"""

import argparse
import csv
import random
from collections import Counter, defaultdict

from common import REPO, CachedEncoder, banking77, by_label, clinc150, show

import numpy as np
from sklearn.metrics import adjusted_rand_score

from handoff.services.analytics import DEFAULT_CLUSTER_THRESHOLD, cluster_questions
from handoff.services.question_kinds import QUESTION, QuestionKinds

BEFORE_THRESHOLD = 0.5  # the greedy method's, on the knowledge base's scale


def greedy_before(texts, encode, threshold):
    """The method before this bench (handoff/services/analytics.py at 50695c3): each text, most frequent first,
    joins the nearest running centroid at or above ``threshold``, else starts a cluster."""
    groups, shown = defaultdict(list), {}
    for position, text in enumerate(texts):
        norm = " ".join(text.lower().split())
        groups[norm].append(position)
        shown.setdefault(norm, " ".join(text.split()))
    keys = sorted(groups, key=lambda k: -len(groups[k]))
    vectors = np.asarray(encode([shown[k] for k in keys]), dtype=np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    centroids, members = [], []
    for row, vector in enumerate(vectors):
        best, best_score = -1, threshold
        for number, centroid in enumerate(centroids):
            score = float(vector @ centroid / max(np.linalg.norm(centroid), 1e-12))
            if score >= best_score:
                best, best_score = number, score
        if best < 0:
            centroids.append(vector.copy() * len(groups[keys[row]]))
            members.append([row])
        else:
            centroids[best] = centroids[best] + vector * len(groups[keys[row]])
            members[best].append(row)
    return [sorted(i for r in rows for i in groups[keys[r]]) for rows in members]


def now_method(texts, encode, threshold):
    return [c.indices for c in cluster_questions(texts, encode, threshold)]


def assignment(clusters, n):
    labels = [0] * n
    for number, indices in enumerate(clusters):
        for i in indices:
            labels[i] = number
    return labels


def purity(truth, predicted):
    counts = defaultdict(Counter)
    for t, p in zip(truth, predicted):
        counts[p][t] += 1
    return sum(c.most_common(1)[0][1] for c in counts.values()) / len(truth)


def figures(draws, method, encode, threshold):
    """Mean figures over the draws ((texts, topics) pairs)."""
    shift, scale = encode.cosine_scale
    raw = shift + scale * threshold
    ari, pure, top, per_topic = [], [], [], []
    for texts, topics in draws:
        clusters = sorted(method(texts, encode, raw), key=len, reverse=True)
        predicted = assignment(clusters, len(texts))
        ari.append(adjusted_rand_score(topics, predicted))
        pure.append(purity(topics, predicted))
        largest = [i for c in clusters[:5] for i in c]
        top.append(purity([topics[i] for i in largest], [predicted[i] for i in largest]))
        per_topic.append(len(clusters) / len(set(topics)))
    return {
        "ari": round(float(np.mean(ari)), 3),
        "purity": round(float(np.mean(pure)), 3),
        "top5_purity": round(float(np.mean(top)), 3),
        "clusters_per_topic": round(float(np.mean(per_topic)), 2),
        "draws": len(draws),
        "questions": sum(len(t) for t, _ in draws),
    }


def skewed_draws(groups, one_offs, draws, topics=10, n_one_offs=20, seed=13):
    rng = random.Random(seed)
    result = []
    for _ in range(draws):
        texts, labels = [], []
        for label in rng.sample(sorted(groups), topics):
            chosen = rng.sample(groups[label], min(rng.choice([2, 3, 4, 6, 8, 12, 16, 20]), len(groups[label])))
            texts += chosen
            labels += [label] * len(chosen)
        for n, text in enumerate(rng.sample(one_offs, n_one_offs)):
            texts.append(text)
            labels.append(f"one-off-{n}")
        order = list(range(len(texts)))
        rng.shuffle(order)
        result.append(([texts[i] for i in order], [labels[i] for i in order]))
    return result


def customer_rows(names):
    rows = []
    for name in names:
        with (REPO / "bench" / "customer_sets" / f"{name}.csv").open(encoding="utf-8") as handle:
            rows += list(csv.DictReader(handle))
    return rows


def customer_draw(rows):
    questions = [r for r in rows if r["kind"] in ("faq", "oos")]
    return [
        (
            [r["text"] for r in questions],
            [r["label"] if r["kind"] == "faq" else f"one-off-{n}" for n, r in enumerate(questions)],
        )
    ]


def kinds_figures(rows, encode):
    kinds = QuestionKinds(encode, tuple(encode.cosine_scale)).classify([r["text"] for r in rows])
    requests = [k for r, k in zip(rows, kinds) if r["kind"] in ("human", "callback")]
    questions = [k for r, k in zip(rows, kinds) if r["kind"] in ("faq", "oos")]
    return {
        "requests_kept_out": sum(k != QUESTION for k in requests),
        "requests": len(requests),
        "questions_wrongly_kept_out": sum(k != QUESTION for k in questions),
        "questions": len(questions),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=30)
    parser.add_argument("--sweep", action="store_true", help="development sets at several thresholds")
    args = parser.parse_args()
    encode = CachedEncoder()
    clinc = clinc150()
    banking = random.Random(7).sample(banking77(), 3000)  # 39 per category on average; encoded once, cached
    sets = {
        "dev: CLINC150 train, 10 intents + 20 out-of-scope": skewed_draws(
            by_label(clinc["train"]), [t for t, _ in clinc["oos_train"]], args.draws
        ),
        "dev: customer sets dev + dev2": customer_draw(customer_rows(["dev", "dev2"])),
        "CLINC150 val, 10 intents + 20 out-of-scope": skewed_draws(
            by_label(clinc["val"]), [t for t, _ in clinc["oos_val"]], args.draws
        ),
        "Banking77, 10 categories + 20 CLINC150 out-of-scope": skewed_draws(
            by_label(banking), [t for t, _ in clinc["oos_val"]], args.draws
        ),
        "customer sets final + final2": customer_draw(customer_rows(["final", "final2"])),
    }
    encode.warm([t for draws in sets.values() for texts, _ in draws for t in texts])
    for title, draws in sets.items():
        if args.sweep and title.startswith("dev"):
            for threshold in (0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7):
                show(f"{title}: now, average linkage {threshold}", figures(draws, now_method, encode, threshold))
            continue
        show(
            f"{title}: before, greedy centroid {BEFORE_THRESHOLD}",
            figures(draws, greedy_before, encode, BEFORE_THRESHOLD),
        )
        show(
            f"{title}: now, average linkage {DEFAULT_CLUSTER_THRESHOLD}",
            figures(draws, now_method, encode, DEFAULT_CLUSTER_THRESHOLD),
        )
    for names in (["dev", "dev2"], ["final", "final2"]):
        show(
            f"requests for a person/call kept out of 'unanswered': customer sets {' + '.join(names)}",
            kinds_figures(customer_rows(names), encode),
        )
    encode.save()


if __name__ == "__main__":
    main()
