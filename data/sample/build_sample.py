"""Rebuild the sample corpus from SQuAD v1.1 dev (run from the repository root):

    .venv/bin/python data/sample/build_sample.py ../shared/data/squad-v1.1-dev/dev-v1.1.json.gz

Writes ``docs/<article>.md`` (the article's paragraphs under its title) and ``qa.jsonl``
(every question of those articles with its distinct gold answers).
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

ARTICLES = ("Amazon_rainforest", "Black_Death", "Packet_switching")
HERE = Path(__file__).resolve().parent


def main(source: str) -> int:
    with gzip.open(source, "rt", encoding="utf-8") as fh:
        data = json.load(fh)["data"]
    by_title = {article["title"]: article for article in data}
    (HERE / "docs").mkdir(exist_ok=True)
    rows = []
    for title in ARTICLES:
        article = by_title[title]
        name = title.lower().replace(",", "")
        paragraphs = [p["context"].strip() for p in article["paragraphs"]]
        text = f"# {title.replace('_', ' ')}\n\n" + "\n\n".join(paragraphs) + "\n"
        (HERE / "docs" / f"{name}.md").write_text(text, encoding="utf-8")
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                answers = list(dict.fromkeys(a["text"].strip() for a in qa["answers"]))
                rows.append(
                    {
                        "id": qa["id"],
                        "question": qa["question"].strip(),
                        "answers": answers,
                        "category": title.replace("_", " "),
                    }
                )
    lines = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    (HERE / "qa.jsonl").write_text(lines, encoding="utf-8")
    print(f"{len(ARTICLES)} articles, {len(rows)} questions")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
