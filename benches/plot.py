"""Draws the benchmark figures of benches/compare.rs from its CSV.

    python plot.py results.csv benchmarks.png
"""

import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def load(path):
    with open(path, newline="", encoding="utf-8") as f:
        return [dict(row, value=float(row["value"])) for row in csv.DictReader(f)]


def bars(ax, rows, title, unit, highlight="Webhook1C", targets=()):
    labels = [r["name"] for r in rows]
    values = [r["value"] for r in rows]
    colors = ["#2a7ab0" if highlight in label else "#9aa5ad" for label in labels]
    y = range(len(rows))
    ax.barh(y, values, color=colors)
    ax.set_yticks(list(y), [label.replace(" (", "\n(") for label in labels], fontsize=8)
    ax.invert_yaxis()
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(unit)
    for i, v in enumerate(values):
        ax.text(v, i, f" {v:,.0f}", va="center", fontsize=8)
    for value, label in targets:
        ax.axvline(value, color="#c0392b", linestyle="--", linewidth=1)
        ax.text(value, len(rows) - 0.4, f" {label}", color="#c0392b", fontsize=8)
    ax.margins(x=0.25)


def main():
    rows = load(sys.argv[1])
    rate = lambda group: [r for r in rows if r["group"] == group and r["unit"] in ("req/s", "msg/s")]
    panels = [
        ("alternatives", "HTTPS, 1 KB JSON, one server: requests/s", "requests/s", ()),
        ("abi", "ABI path vs the Rust core (HTTP): requests/s", "requests/s", ()),
        ("pool", "Fresh object per call vs reused (HTTPS)", "requests/s", ()),
        ("queue", "Durable queue: messages/s", "messages/s", ((1000, "1,000"), (2000, "2,000"))),
    ]
    panels = [p for p in panels if rate(p[0])]
    if not panels:
        raise SystemExit("no rates in " + sys.argv[1])
    fig, axes = plt.subplots(len(panels), 1, figsize=(9, 2.3 * len(panels) + 1.2), squeeze=False)
    for ax, (group, title, unit, targets) in zip(axes[:, 0], panels):
        named = rate(group)
        if group != "alternatives":
            for r in named:
                r["name"] = r["name"].replace("C host → PostJson", "Webhook1C PostJson")
        bars(ax, named, title, unit, targets=targets if group == "queue" else ())
    fig.suptitle("Webhook1C benchmarks (loopback, 2 cores; medians)", fontsize=11)
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=110)


if __name__ == "__main__":
    main()
