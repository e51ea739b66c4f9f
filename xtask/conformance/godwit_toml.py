"""Write the godwit.toml that gives godwit a conformance case's options.

The corpus runner writes each case's options as JSON ({options_file}); godwit reads the
ones it offers from its configuration file: sqldef's `managed_roles` as `managed_roles`, and
its `manage.privilege` rules as the `[manage]` table's `privilege` list. `enable_drop` is
given as a flag by the command template. Usage: python3 godwit_toml.py OPTIONS.json
"""

import json
import sys


def string(text):
    # A JSON string is a TOML basic string: the same quotes and escapes.
    return json.dumps(text, ensure_ascii=False)


def main(path):
    with open(path, encoding="utf-8") as f:
        options = json.load(f)
    lines = []
    roles = options.get("managed_roles")
    if roles is not None:
        lines.append("managed_roles = [" + ", ".join(string(r) for r in roles) + "]")
    rules = (options.get("manage") or {}).get("privilege")
    if rules is not None:
        lines.append("")
        lines.append("[manage]")
        entries = (
            "{ target = %s, drop = %s }" % (string(r["target"]), "true" if r.get("drop") else "false")
            for r in rules
        )
        lines.append("privilege = [" + ", ".join(entries) + "]")
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
