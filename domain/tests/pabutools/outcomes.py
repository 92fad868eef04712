"""The outcomes pabutools gives for .pb files, to compare with windledger's.

Usage: python3 outcomes.py FILE.pb...  One JSON line per file:
{"file": NAME, "greedy_approval": [ids], "equal_shares": [ids]},
the ids in the order each rule selected the projects.

The rules are those windledger states (domain/src/budgeting/mod.rs):
- greedy approval is pabutools' greedy_utilitarian_welfare with cost
  satisfaction (its score per euro is then the number of votes); a project
  without votes is never funded in windledger, and in pabutools only comes
  after every project with votes, so it is left out of the comparison;
- Equal Shares is method_of_equal_shares with cost satisfaction (Cost_Sat);
- ties: the lower cost first, then the project listed first in the file.
"""

import csv
import json
import os
import sys

from pabutools.election import Cost_Sat, parse_pabulib
from pabutools.rules import greedy_utilitarian_welfare, method_of_equal_shares
from pabutools.tiebreaking import TieBreakingRule


def file_order(path):
    """Each project id's position in the file's PROJECTS section."""
    order = {}
    section = None
    header = False
    with open(path, encoding="utf-8") as f:
        for row in csv.reader(f.read().splitlines(), delimiter=";"):
            if not row or not "".join(row).strip():
                continue
            first = row[0].strip().lower()
            if first in ("meta", "projects", "votes"):
                section, header = first, True
                continue
            if header:
                header = False
                continue
            if section == "projects":
                order[row[0].strip()] = len(order)
    return order


def main(paths):
    for path in paths:
        instance, profile = parse_pabulib(path)
        order = file_order(path)
        tie = TieBreakingRule(lambda inst, prof, p: (p.cost, order[p.name]))
        approved = {p.name for ballot in profile for p in ballot}
        greedy = greedy_utilitarian_welfare(
            instance, profile, sat_class=Cost_Sat, tie_breaking=tie
        )
        mes = method_of_equal_shares(
            instance, profile, sat_class=Cost_Sat, tie_breaking=tie
        )
        print(
            json.dumps(
                {
                    "file": os.path.basename(path),
                    "greedy_approval": [p.name for p in greedy if p.name in approved],
                    "equal_shares": [p.name for p in mes],
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1:])
