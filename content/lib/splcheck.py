"""A static checker for the SPL this app ships (no Splunk can run here).

It expands the app's macros, splits the pipeline into commands and follows the fields through
them: a field a command reads must exist in the events the search starts from (our sourcetypes,
a CIM data model through tstats, a lookup through inputlookup) or have been created by an earlier
command (eval, stats ... as, lookup OUTPUT, rename). Macros, lookups, lookup columns and
data-model fields named anywhere must exist. It understands the commands our content uses and
reports any other command as unsupported, so a new command is never silently unchecked.
"""
from __future__ import annotations

import re

from .inventory import SEARCH_MODIFIERS, SPLUNK_DEFAULT_FIELDS, FieldSet

EVAL_FUNCTIONS_NOT_FIELDS = frozenset(("AND", "OR", "NOT", "LIKE", "IN", "true", "false", "null", "TRUE", "FALSE"))
STATS_COMMANDS = ("stats", "eventstats", "streamstats", "chart", "timechart", "geostats")
_TOKEN = re.compile(r"\$[^$\s]+\$")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_IDENT = re.compile(r"'([^']+)'|([A-Za-z_][\w.]*\*?|\*)(\s*\()?")


class SplError(Exception):
    pass


def _split_top(text, sep="|"):
    """Split on ``sep`` outside quotes, brackets and parentheses."""
    parts, depth, buf, quote = [], 0, [], None
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            buf.append(ch)
            if ch == "\\" and i + 1 < len(text):
                buf.append(text[i + 1])
                i += 1
            elif ch == quote:
                quote = None
        elif ch == '"':
            quote = ch
            buf.append(ch)
        elif ch in "[(":
            depth += 1
            buf.append(ch)
        elif ch in "])":
            depth -= 1
            buf.append(ch)
        elif ch == sep and depth == 0:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
        i += 1
    if quote or depth:
        raise SplError("unbalanced quotes or brackets in: %s" % text[:120])
    parts.append("".join(buf))
    return parts


class Checker(object):
    """Check searches against the app's macros and lookups, our events and the CIM."""

    def __init__(self, macro_defs, lookups, sourcetypes, datamodels):
        self.macro_defs = macro_defs          # {(name, nargs): (definition, [args])}
        self.lookups = lookups                # {name: [columns]}
        self.sourcetypes = sourcetypes        # {sourcetype: FieldSet}
        self.datamodels = datamodels          # {model: {dataset: set(fields)}}
        self.used_macros, self.used_lookups, self.used_datamodels = set(), set(), set()

    # -- macros -------------------------------------------------------------------------------
    def expand(self, spl, depth=0):
        if depth > 10:
            raise SplError("macro recursion too deep")

        def sub(match):
            body = match.group(1)
            m = re.match(r"^([\w]+)(?:\((.*)\))?$", body, re.S)
            if not m:
                raise SplError("bad macro reference `%s`" % body)
            name, argtext = m.group(1), m.group(2)
            args = [a.strip() for a in _split_top(argtext, ",")] if argtext else []
            key = (name, len(args))
            if key not in self.macro_defs:
                raise SplError("macro `%s` with %d argument(s) is not defined in macros.conf" % (name, len(args)))
            self.used_macros.add(key)
            definition, names = self.macro_defs[key]
            for n, v in zip(names, args):
                definition = definition.replace("$%s$" % n, v)
            return " %s " % self.expand(definition, depth + 1)

        if "```" in spl:
            spl = re.sub(r"```.*?```", " ", spl, flags=re.S)
        return re.sub(r"`([^`]+)`", sub, spl)

    # -- entry point ----------------------------------------------------------------------------
    def check(self, spl, tokens=True):
        """Check one search; return the FieldSet it produces. Raises SplError."""
        if tokens:
            spl = _TOKEN.sub("TOKEN", spl)
        return self._pipeline(self.expand(spl).strip(), None)

    def _pipeline(self, spl, fields):
        commands = [c.strip() for c in _split_top(spl)]
        if commands and commands[0] == "":
            commands = commands[1:]            # search starting with "| generating command"
        elif commands:
            commands[0] = "search " + commands[0]
        for cmd in commands:
            fields = self._command(cmd, fields)
        return fields

    def _need(self, fields, name, where):
        name = name.strip()
        if not name or name == "TOKEN":
            return
        if name not in fields:
            raise SplError("field %r used in `%s` is not produced by the events or earlier commands"
                           % (name, where[:100]))

    def _command(self, cmd, fields):
        name, _, rest = cmd.partition(" ")
        name = name.lower()
        rest = rest.strip()
        handler = getattr(self, "_cmd_" + name, None)
        if handler is None:
            raise SplError("command %r is not understood by the static checker" % name)
        out = handler(rest, fields, cmd)
        return fields if out is None else out

    # -- generating commands ----------------------------------------------------------------------
    def _base_fields(self, rest):
        """Events a search clause selects: the sourcetypes it names (all of ours if none)."""
        named = re.findall(r'sourcetype\s*=\s*"?([\w:]+)"?', rest)
        if not named:
            named = list(self.sourcetypes)
        fields = FieldSet()
        for st in named:
            if st not in self.sourcetypes:
                raise SplError("sourcetype %r is not one of ours" % st)
            fields = fields.union(self.sourcetypes[st])
        return fields

    def _search_terms(self, rest, fields, cmd):
        clean = _STRING.sub('""', rest)
        for m in re.finditer(r"([A-Za-z_][\w.]*\*?)\s*(?:!=|<=|>=|=|<|>)", clean):
            field = m.group(1)
            if field in SEARCH_MODIFIERS:
                continue
            self._need(fields, field, cmd)
        for m in re.finditer(r"([A-Za-z_][\w.]*)\s+IN\s*\(", clean):
            self._need(fields, m.group(1), cmd)

    def _cmd_search(self, rest, fields, cmd):
        if fields is None:
            fields = self._base_fields(rest)
        self._search_terms(rest, fields, cmd)
        return fields

    def _cmd_tstats(self, rest, fields, cmd):
        m = re.search(r"from\s+datamodel=([\w]+)\.([\w]+)", rest)
        if not m:
            raise SplError("tstats without from datamodel=Model.Dataset: %s" % cmd[:100])
        model, dataset = m.group(1), m.group(2)
        if model not in self.datamodels or dataset not in self.datamodels[model]:
            raise SplError("data model %s.%s is not in the CIM" % (model, dataset))
        self.used_datamodels.add((model, dataset))
        dm_fields = self.datamodels[model][dataset]
        for node in re.findall(r"nodename=([\w.]+)", rest):
            if node.split(".")[-1] not in self.datamodels[model]:
                raise SplError("nodename=%s is not a dataset of data model %s" % (node, model))
        rest = re.sub(r"nodename=[\w.]+", "", rest)
        for ref_ds, ref_field in re.findall(r"\b([A-Z][\w]*)\.([\w]+)\b", _STRING.sub('""', rest)):
            if ref_ds == model and ref_field == dataset:
                continue
            if ref_ds == dataset:
                if ref_field not in dm_fields:
                    raise SplError("%s.%s is not a field of data model %s" % (ref_ds, ref_field, model))
            elif ref_ds in self.datamodels[model]:
                continue                       # nodename=All_Sessions.VPN names a child dataset
        out = FieldSet()
        head, _, by = rest.partition(" by ")
        for alias in re.findall(r"\)\s+as\s+([\w]+)", head):
            out.add(alias)
        if re.search(r"(^|\s)count(\s|$)", head.split(" from ")[0]):
            out.add("count")
        for f in by.split():
            if f.startswith("span="):
                continue
            out.add(f)
        out.add("_time")
        return out

    def _cmd_inputlookup(self, rest, fields, cmd):
        opts = [w for w in rest.split() if "=" not in w]
        lookup = opts[0]
        if lookup not in self.lookups:
            raise SplError("lookup %r is not defined (transforms.conf or lookups/)" % lookup)
        self.used_lookups.add(lookup)
        out = FieldSet(self.lookups[lookup])
        if "append=true" in rest.replace(" ", "") and fields is not None:
            out = out.union(fields)
        return out

    # -- streaming commands -----------------------------------------------------------------------
    def _expr_fields(self, expr):
        """Field names an eval/where expression reads."""
        clean = re.sub(r"(?<![\w.])\d+(?:\.\d+)?(?:[eE][+-]?\d+)?", "0", _STRING.sub('""', expr))
        names = []
        for m in _IDENT.finditer(clean):
            quoted, ident, call = m.group(1), m.group(2), m.group(3)
            if quoted:
                names.append(quoted)
            elif ident and not call and ident not in EVAL_FUNCTIONS_NOT_FIELDS and ident != "*":
                if re.match(r"^\d", ident):
                    continue
                names.append(ident)
        return names

    def _cmd_eval(self, rest, fields, cmd):
        out = fields.copy()
        for assignment in _split_top(rest, ","):
            target, eq, expr = assignment.partition("=")
            if not eq:
                raise SplError("eval without assignment: %s" % assignment)
            for f in self._expr_fields(expr):
                self._need(out, f, cmd)
            out.add(target.strip())
        return out

    def _cmd_where(self, rest, fields, cmd):
        for f in self._expr_fields(rest):
            self._need(fields, f, cmd)

    def _stats_like(self, rest, fields, cmd, keep):
        out = fields.copy() if keep else FieldSet()
        by = ""
        m = re.search(r"\s+by\s+", rest)
        head = rest
        if m:
            head, by = rest[:m.start()], rest[m.end():]
        head = re.sub(r"^(?:\s*\w+=\S+)+", "", head)          # options (current=f window=1 ...)
        for func in re.finditer(r"(\w+)\((eval\((?:[^()]|\([^()]*\))*\)|[^()]*)\)(?:\s+as\s+([\w.*]+))?", head):
            fname, arg, alias = func.group(1), func.group(2), func.group(3)
            if arg.startswith("eval("):
                for f in self._expr_fields(arg[5:-1]):
                    self._need(fields, f, cmd)
            elif arg and arg not in ("*",):
                self._need(fields, arg, cmd)
            out.add(alias or ("%s(%s)" % (fname, arg)))
        bare = re.sub(r"\w+\((?:[^()]|\([^()]*\))*\)(\s+as\s+[\w.*]+)?", " ", head)
        for m in re.finditer(r"\b(count|dc|distinct_count)\b(?:\s+as\s+([\w.]+))?", bare):
            out.add(m.group(2) or m.group(1))
        for f in by.replace(",", " ").split():
            if "=" in f:
                continue
            self._need(fields, f, cmd)
            out.add(f)
        return out

    def _cmd_stats(self, rest, fields, cmd):
        return self._stats_like(rest, fields, cmd, keep=False)

    def _cmd_eventstats(self, rest, fields, cmd):
        return self._stats_like(rest, fields, cmd, keep=True)

    def _cmd_streamstats(self, rest, fields, cmd):
        return self._stats_like(rest, fields, cmd, keep=True)

    def _cmd_timechart(self, rest, fields, cmd):
        rest = re.sub(r"\b(span|limit|useother|usenull|partial|cont|fixedrange)=\S+", "", rest)
        out = self._stats_like(rest, fields, cmd, keep=False)
        out.add("_time")
        out.add("*")
        return out

    def _cmd_chart(self, rest, fields, cmd):
        rest = re.sub(r"\b(limit|useother|usenull|span)=\S+", "", rest)
        rest = re.sub(r"\s+over\s+(\S+)\s+by\s+", r" by \1 ", rest)
        rest = re.sub(r"\s+over\s+", " by ", rest)
        out = self._stats_like(rest, fields, cmd, keep=False)
        out.add("*")
        return out

    def _cmd_geostats(self, rest, fields, cmd):
        for key in ("latfield", "longfield"):
            m = re.search(key + r"=(\S+)", rest)
            if m:
                self._need(fields, m.group(1), cmd)
        rest = re.sub(r"\b\w+=\S+", "", rest)
        out = self._stats_like(rest, fields, cmd, keep=False)
        for f in ("geobin", "latitude", "longitude", "*"):
            out.add(f)
        return out

    def _cmd_bin(self, rest, fields, cmd):
        for word in rest.split():
            if "=" not in word:
                self._need(fields, word, cmd)

    _cmd_bucket = _cmd_bin

    def _cmd_rename(self, rest, fields, cmd):
        out = fields.copy()
        for pair in _split_top(rest, ","):
            m = re.match(r'^\s*"?([^"]+?)"?\s+as\s+"?([^"]+?)"?\s*$', pair, re.I)
            if not m:
                raise SplError("bad rename: %s" % pair)
            src, dst = m.group(1), m.group(2)
            if src.endswith("*") and dst.endswith("*"):
                stem, new = src[:-1], dst[:-1]
                for f in list(out.names):
                    if f.startswith(stem):
                        out.names.discard(f)
                        out.add(new + f[len(stem):])
            else:
                self._need(out, src, cmd)
                out.names.discard(src)
                out.add(dst)
        return out

    def _lookup_io(self, lookup, spec, fields, cmd):
        cols = self.lookups[lookup]
        out = fields.copy()
        m = re.search(r"\b(OUTPUTNEW|OUTPUT)\b", spec)
        inputs, outputs = (spec[:m.start()], spec[m.end():]) if m else (spec, "")
        for m in re.finditer(r"([\w.]+)(?:\s+AS\s+([\w.]+))?", inputs, re.I):
            col, event_field = m.group(1), m.group(2) or m.group(1)
            if col.upper() == "AS":
                continue
            if col not in cols:
                raise SplError("lookup %s has no column %r" % (lookup, col))
            self._need(fields, event_field, cmd)
        for m in re.finditer(r"([\w.]+)(?:\s+AS\s+([\w.]+))?", outputs.replace(",", " "), re.I):
            col, new = m.group(1), m.group(2) or m.group(1)
            if col.upper() == "AS":
                continue
            if col not in cols:
                raise SplError("lookup %s has no column %r" % (lookup, col))
            out.add(new)
        return out

    def _cmd_lookup(self, rest, fields, cmd):
        rest = re.sub(r"^(?:(?:local|update)=\S+\s+)*", "", rest)
        lookup, _, spec = rest.partition(" ")
        if lookup not in self.lookups:
            raise SplError("lookup %r is not defined (transforms.conf or lookups/)" % lookup)
        self.used_lookups.add(lookup)
        return self._lookup_io(lookup, spec, fields, cmd)

    def _cmd_outputlookup(self, rest, fields, cmd):
        target = [w for w in rest.split() if "=" not in w][0]
        if target not in self.lookups and not target.endswith(".csv"):
            raise SplError("outputlookup target %r is neither a lookup definition nor a .csv file" % target)
        self.used_lookups.add(target)
        if target in self.lookups and self.lookups[target]:
            missing = set(self.lookups[target]) - fields.names
            if missing:
                raise SplError("outputlookup %s would drop its columns %s" % (target, sorted(missing)))

    def _field_list(self, rest, fields, cmd):
        out = FieldSet()
        for f in rest.replace(",", " ").split():
            if f in ("-", "+"):
                continue
            f = f.strip('"')
            self._need(fields, f, cmd)
            if f in fields.names:
                out.add(f)
            else:
                out.prefixes.update(p for p in fields.prefixes)
                out.names.update(n for n in fields.names if n.startswith(f.rstrip("*")))
        return out

    def _cmd_table(self, rest, fields, cmd):
        return self._field_list(rest, fields, cmd)

    def _cmd_fields(self, rest, fields, cmd):
        if rest.startswith("-"):
            self._field_list(rest[1:], fields, cmd)
            return None
        return self._field_list(rest.lstrip("+ "), fields, cmd)

    def _cmd_sort(self, rest, fields, cmd):
        for word in rest.replace(",", " ").split():
            word = word.lstrip("+-")
            if not word or word.isdigit():
                continue
            m = re.match(r"^(?:num|str|ip|auto)\((.+)\)$", word)
            self._need(fields, m.group(1) if m else word, cmd)

    def _cmd_dedup(self, rest, fields, cmd):
        for word in rest.split():
            if not word.isdigit() and "=" not in word:
                self._need(fields, word, cmd)

    def _cmd_head(self, rest, fields, cmd):
        return None

    _cmd_tail = _cmd_head

    def _cmd_convert(self, rest, fields, cmd):
        for func, arg, alias in re.findall(r"(\w+)\(([\w.]+)\)(?:\s+as\s+([\w.]+))?", rest):
            self._need(fields, arg, cmd)
            if alias:
                fields = fields.copy()
                fields.add(alias)
        return fields

    def _cmd_fillnull(self, rest, fields, cmd):
        out = fields.copy()
        for word in rest.split():
            if "=" not in word:
                out.add(word)
        return out

    def _cmd_append(self, rest, fields, cmd):
        m = re.match(r"^\[(.*)\]$", rest.strip(), re.S)
        if not m:
            raise SplError("append needs a subsearch")
        sub = self._pipeline(m.group(1).strip(), None)
        return fields.union(sub)

    def _cmd_top(self, rest, fields, cmd):
        rest = re.sub(r"\b\w+=\S+", "", rest)
        out = FieldSet(("count", "percent"))
        for f in rest.replace(" by ", " ").replace(",", " ").split():
            self._need(fields, f, cmd)
            out.add(f)
        return out

    def _cmd_iplocation(self, rest, fields, cmd):
        words = [w for w in rest.split() if "=" not in w]
        for w in words:
            self._need(fields, w, cmd)
        out = fields.copy()
        for f in ("City", "Country", "Region", "lat", "lon"):
            out.add(f)
        return out

    def _cmd_makeresults(self, rest, fields, cmd):
        return FieldSet(("_time",))

    def _cmd_mvexpand(self, rest, fields, cmd):
        self._need(fields, rest.split()[0], cmd)

    def _cmd_from(self, rest, fields, cmd):
        raise SplError("`from` is not used by this app's content")
