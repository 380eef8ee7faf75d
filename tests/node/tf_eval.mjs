// tf_eval.mjs: a small Terraform evaluator for tests/node/test_infra.mjs.
//
// Terraform is not installable here, so infra/*.tf is parsed by
// @cdktf/hcl2json (HashiCorp's HCL parser compiled to WebAssembly) and the
// expressions this repository uses are evaluated here, the way `terraform
// plan` would for a given tfvars file: variables (tfvars, then defaults),
// locals, for expressions (lists, maps, grouping `...`), templates,
// conditionals (only the chosen branch is evaluated), operators, the
// functions listed in FUNCS, and `dynamic` blocks in aws_iam_policy_document.
// Anything else throws, naming the construct, so a new construct in infra/
// fails the test until the evaluator learns it.
//
// Values Terraform only knows after apply are either computed from the
// documented ARN formats (COMPUTED below, e.g. a log group's arn) or the
// sentinel string "(known after apply)".
//
//   const tf = await loadConfig("infra", files);   // files: {name: text} (optional)
//   const ev = new Evaluator(tf, tfvars, { account: "123456789012" });
//   const doc = await ev.policyDocument("client");  // {Statement: [...]}

import { parse, getExpressionAst } from "@cdktf/hcl2json";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const UNKNOWN = "(known after apply)";

// Parse every *.tf of dir (or the given {name: text} map) and merge the
// top-level blocks. Throws "file: parse error" on a syntax error.
export async function loadConfig(dir, files) {
    if (!files) {
        files = {};
        for (const f of readdirSync(dir).filter((f) => f.endsWith(".tf")).sort())
            files[f] = readFileSync(join(dir, f), "utf8");
    }
    const tf = { files: Object.keys(files), variable: {}, locals: {}, data: {}, resource: {}, output: {}, other: {} };
    for (const [name, text] of Object.entries(files)) {
        let j;
        try {
            j = await parse(name, text);
        } catch (e) {
            throw new Error(`${name}: parse error: ${e.message}`);
        }
        for (const [kind, body] of Object.entries(j)) {
            if (kind === "variable" || kind === "output") {
                for (const [n, blocks] of Object.entries(body)) {
                    if (tf[kind][n]) throw new Error(`${name}: ${kind} "${n}" declared twice`);
                    tf[kind][n] = blocks[0];
                }
            } else if (kind === "locals") {
                for (const blk of body)
                    for (const [n, v] of Object.entries(blk)) {
                        if (n in tf.locals) throw new Error(`${name}: local "${n}" declared twice`);
                        tf.locals[n] = v;
                    }
            } else if (kind === "data" || kind === "resource") {
                for (const [type, byName] of Object.entries(body))
                    for (const [n, blocks] of Object.entries(byName)) {
                        tf[kind][type] ??= {};
                        if (tf[kind][type][n]) throw new Error(`${name}: ${kind} ${type}.${n} declared twice`);
                        tf[kind][type][n] = blocks[0];
                    }
            } else {
                tf.other[kind] = body;
            }
        }
    }
    return tf;
}

// Parse a tfvars file (HCL attributes; literal values only).
export async function loadTfvars(path) {
    return parse(path, readFileSync(path, "utf8"));
}

// ARN formats of the computed attributes the policies use (AWS's documented
// formats; Terraform's aws_cloudwatch_log_group.arn has no trailing ":*").
const COMPUTED = {
    "aws_cloudwatch_log_group.arn": (ev, r) => `arn:${ev.partition}:logs:${ev.region}:${ev.account}:log-group:${r.name}`,
    "aws_lambda_function.arn": (ev, r) => `arn:${ev.partition}:lambda:${ev.region}:${ev.account}:function:${r.function_name}`,
    "aws_iam_policy.arn": (ev, r) => `arn:${ev.partition}:iam::${ev.account}:policy/${r.name}`,
    "aws_iam_role.arn": (ev, r) => `arn:${ev.partition}:iam::${ev.account}:role/${r.name}`,
};

const isStr = (v) => typeof v === "string";

const FUNCS = {
    length: (x) => (Array.isArray(x) ? x.length : isStr(x) ? [...x].length : Object.keys(x).length),
    concat: (...ls) => ls.flat(1),
    distinct: (l) => [...new Map(l.map((x) => [JSON.stringify(x), x])).values()],
    join: (sep, l) => l.join(sep),
    contains: (l, x) => l.some((y) => JSON.stringify(y) === JSON.stringify(x)),
    alltrue: (l) => l.every((x) => x === true),
    anytrue: (l) => l.some((x) => x === true),
    flatten: (l) => l.flat(Infinity),
    keys: (m) => Object.keys(m).sort(),
    values: (m) => Object.keys(m).sort().map((k) => m[k]),
    // RE2 and JS agree on the patterns used here (anchors, classes, counts).
    regex: (re, s) => {
        const m = new RegExp(re).exec(s);
        if (!m) throw new Error(`regex: no match for ${re} in ${JSON.stringify(s)}`);
        return m.length > 1 ? m.slice(1) : m[0];
    },
    cidrsubnet: () => UNKNOWN,
    filebase64sha256: () => UNKNOWN,
};

export class Evaluator {
    constructor(tf, tfvars, { account = "123456789012", partition = "aws" } = {}) {
        this.tf = tf;
        this.tfvars = tfvars;
        this.account = account;
        this.partition = partition;
        this.localCache = new Map();
        this.astCache = new Map();
        this.region = undefined;
    }

    async init() {
        this.region = await this.variable("region");
        return this;
    }

    async variable(n) {
        const decl = this.tf.variable[n];
        if (!decl) throw new Error(`var.${n}: not declared`);
        if (n in this.tfvars) return this.tfvars[n];
        if (!("default" in decl)) throw new Error(`var.${n}: required and not set`);
        return this.value(decl.default, {});
    }

    async ast(text) {
        if (!this.astCache.has(text)) this.astCache.set(text, await getExpressionAst("expr.tf", text));
        return this.astCache.get(text);
    }

    // Evaluate a value as hcl2json gives it: strings with ${...} are
    // templates, arrays and objects element by element.
    async value(v, scope) {
        if (isStr(v)) {
            if (!v.includes("${")) return v;
            return this.expr(`"${v}"`, scope);
        }
        if (Array.isArray(v)) {
            const out = [];
            for (const x of v) out.push(await this.value(x, scope));
            return out;
        }
        if (v && typeof v === "object") {
            const out = {};
            for (const [k, x] of Object.entries(v)) out[k] = await this.value(x, scope);
            return out;
        }
        return v;
    }

    async expr(text, scope) {
        return this.node(await this.ast(text), scope);
    }

    async node(n, scope) {
        const m = n.meta || {};
        switch (n.type) {
        case "templateWrap":
            return this.node(n.children[0], scope);
        case "template": {
            let s = "";
            for (const c of n.children) {
                const v = await this.node(c, scope);
                if (v === null || typeof v === "object") throw new Error(`template ${m.value}: interpolates ${JSON.stringify(v)}`);
                s += String(v);
            }
            return s;
        }
        case "literalValue":
            if (m.type === "string") return JSON.parse(`"${m.value}"`);
            if (m.type === "number") return Number(m.value);
            if (m.type === "bool") return m.value === "true";
            if (m.value === "null") return null;
            throw new Error(`literal ${m.value}`);
        case "":
            if (n.children.length === 1) return this.node(n.children[0], scope); // ( ... )
            throw new Error(`unsupported expression ${JSON.stringify(m)}`);
        case "tuple": {
            const out = [];
            for (const c of n.children) out.push(await this.node(c, scope));
            return out;
        }
        case "object": {
            const out = {};
            for (const [k, v] of Object.entries(m.items)) {
                const key = k.startsWith('"') ? JSON.parse(k) : k;
                out[key] = await this.expr(v, scope);
            }
            return out;
        }
        case "conditional":
            return (await this.expr(m.conditionExpression, scope)) === true
                ? this.expr(m.trueExpression, scope)
                : this.expr(m.falseExpression, scope);
        case "unaryOp": {
            const v = await this.expr(m.valueExpression, scope);
            if (m.operator === "logicalNot") return !v;
            if (m.operator === "negate") return -v;
            throw new Error(`operator ${m.operator}`);
        }
        case "binaryOp": {
            const a = await this.expr(m.lhsExpression, scope);
            if (m.operator === "logicalAnd" && a !== true) return false;
            if (m.operator === "logicalOr" && a === true) return true;
            const b = await this.expr(m.rhsExpression, scope);
            const ops = {
                equal: () => JSON.stringify(a) === JSON.stringify(b),
                notEqual: () => JSON.stringify(a) !== JSON.stringify(b),
                greaterThan: () => a > b, greaterThanOrEqual: () => a >= b,
                lessThan: () => a < b, lessThanOrEqual: () => a <= b,
                add: () => a + b, subtract: () => a - b, multiply: () => a * b, divide: () => a / b,
                logicalAnd: () => b === true, logicalOr: () => b === true,
            };
            if (!ops[m.operator]) throw new Error(`operator ${m.operator}`);
            return ops[m.operator]();
        }
        case "function": {
            if (m.name === "can") {
                try {
                    await this.node(n.children[0], scope);
                    return true;
                } catch {
                    return false;
                }
            }
            const f = FUNCS[m.name];
            if (!f) throw new Error(`function ${m.name}() is not known to tests/node/tf_eval.mjs`);
            const args = [];
            for (const c of n.children) args.push(await this.node(c, scope));
            return f(...args);
        }
        case "for": {
            const coll = await this.expr(m.collectionExpression, scope);
            const entries = Array.isArray(coll) ? coll.map((v, i) => [i, v]) : Object.entries(coll);
            const map = m.openRangeValue === "{";
            const out = map ? {} : [];
            for (const [k, v] of entries) {
                const s = { ...scope, [m.valVar]: v };
                if (m.keyVar) s[m.keyVar] = k;
                if (m.conditionalExpression && (await this.expr(m.conditionalExpression, s)) !== true) continue;
                const val = await this.expr(m.valueExpression, s);
                if (!map) {
                    out.push(val);
                    continue;
                }
                const key = await this.expr(m.keyExpression, s);
                if (m.groupedValue) (out[key] ??= []).push(val);
                else if (key in out) throw new Error(`for expression: duplicate key ${key}`);
                else out[key] = val;
            }
            return out;
        }
        case "scopeTraversal":
            return this.traverse(m.traversal, scope);
        case "relativeTraversal": {
            let v = await this.node(n.children[0], scope);
            for (const p of m.traversal) v = this.step(v, p, m.value);
            return v;
        }
        case "splat": {
            const src = await this.expr(m.sourceExpression, scope);
            const attr = m.eachExpression.replace(/^\[\*\]\.?/, "");
            return (Array.isArray(src) ? src : [src]).map((x) => (attr ? x[attr] ?? UNKNOWN : x));
        }
        default:
            throw new Error(`expression type ${n.type} (${m.value}) is not known to tests/node/tf_eval.mjs`);
        }
    }

    step(v, p, where) {
        if (v === UNKNOWN) return UNKNOWN;
        const k = p.type === "indexTraversal" ? (Array.isArray(v) ? Number(p.segment) : p.segment.replace(/^"|"$/g, "")) : p.segment;
        if (v === null || typeof v !== "object" || !(k in v)) throw new Error(`${where}: no element ${k}`);
        return v[k];
    }

    async traverse(parts, scope) {
        const seg = parts.map((p) => p.segment);
        const where = seg.join(".");
        let v, rest;
        if (seg[0] in scope) {
            v = scope[seg[0]];
            rest = parts.slice(1);
        } else if (seg[0] === "var") {
            v = await this.variable(seg[1]);
            rest = parts.slice(2);
        } else if (seg[0] === "local") {
            v = await this.local(seg[1]);
            rest = parts.slice(2);
        } else if (seg[0] === "data") {
            v = await this.data(seg[1], seg[2], seg[3]);
            rest = parts.slice(4);
        } else {
            return this.resourceAttr(parts);
        }
        for (const p of rest) v = this.step(v, p, where);
        return v;
    }

    async local(n) {
        if (!(n in this.tf.locals)) throw new Error(`local.${n}: not declared`);
        if (!this.localCache.has(n)) this.localCache.set(n, await this.value(this.tf.locals[n], {}));
        return this.localCache.get(n);
    }

    async data(type, name, attr) {
        const d = this.tf.data[type]?.[name];
        if (!d) throw new Error(`data.${type}.${name}: not declared`);
        if (type === "aws_partition") return { partition: this.partition }[attr];
        if (type === "aws_caller_identity") return { account_id: this.account }[attr];
        if (type === "aws_availability_zones") return { names: ["a", "b", "c"].map((z) => this.region + z) }[attr];
        if (type === "aws_iam_policy_document" && attr === "json") return JSON.stringify(await this.policyDocument(name));
        throw new Error(`data.${type}.${name}.${attr}: not known to tests/node/tf_eval.mjs`);
    }

    // A resource attribute: an argument of the block, or a computed one.
    // Resources with count are lists of instances.
    async resourceAttr(parts) {
        const [type, name] = parts.map((p) => p.segment);
        const r = this.tf.resource[type]?.[name];
        if (!r) throw new Error(`${type}.${name}: not declared`);
        let rest = parts.slice(2);
        const inst = (i) => ({ scope: i === undefined ? {} : { count: { index: i } } });
        let obj;
        if ("count" in r) {
            const count = await this.value(r.count, {});
            const list = [];
            for (let i = 0; i < count; i++) list.push(inst(i));
            if (!rest.length) return list;
            if (rest[0].type !== "indexTraversal") throw new Error(`${type}.${name}: has count, needs an index`);
            const i = Number(rest[0].segment);
            if (i >= count) throw new Error(`${type}.${name}[${i}]: count is ${count}`);
            obj = list[i];
            rest = rest.slice(1);
        } else {
            obj = inst();
        }
        if (!rest.length) return UNKNOWN;
        const attr = rest[0].segment;
        let v;
        const fmt = COMPUTED[`${type}.${attr}`];
        if (fmt) {
            const args = {};
            for (const k of ["name", "function_name"]) if (k in r) args[k] = await this.value(r[k], obj.scope);
            v = fmt(this, args);
        } else if (attr in r && typeof r[attr] !== "object") {
            v = await this.value(r[attr], obj.scope);
        } else {
            v = UNKNOWN;
        }
        for (const p of rest.slice(1)) v = this.step(v, p, parts.map((p) => p.segment).join("."));
        return v;
    }

    // Render data.aws_iam_policy_document.<name> as IAM JSON (arrays kept as
    // arrays, Condition as {test: {variable: values}}).
    async policyDocument(name) {
        const d = this.tf.data.aws_iam_policy_document?.[name];
        if (!d) throw new Error(`data.aws_iam_policy_document.${name}: not declared`);
        for (const k of Object.keys(d))
            if (!["statement", "dynamic", "version"].includes(k))
                throw new Error(`policy ${name}: argument ${k} is not rendered by tests/node/tf_eval.mjs`);
        const out = [];
        for (const st of d.statement ?? []) out.push(await this.statement(name, st, {}));
        for (const [blk, dyns] of Object.entries(d.dynamic ?? {})) {
            if (blk !== "statement") throw new Error(`policy ${name}: dynamic ${blk}`);
            for (const dyn of dyns) {
                const it = dyn.iterator ?? "statement";
                const coll = await this.value(dyn.for_each, {});
                const entries = Array.isArray(coll) ? coll.map((v, i) => [i, v]) : Object.entries(coll);
                for (const [k, v] of entries)
                    for (const c of dyn.content) out.push(await this.statement(name, c, { [it]: { key: k, value: v } }));
            }
        }
        return { Version: "2012-10-17", Statement: out };
    }

    async statement(doc, st, scope) {
        const s = {};
        const names = {
            sid: "Sid", effect: "Effect", actions: "Action", not_actions: "NotAction",
            resources: "Resource", not_resources: "NotResource",
        };
        for (const [k, v] of Object.entries(st)) {
            if (names[k]) s[names[k]] = await this.value(v, scope);
            else if (k === "principals" || k === "not_principals") {
                const key = k === "principals" ? "Principal" : "NotPrincipal";
                s[key] ??= {};
                for (const p of v) s[key][await this.value(p.type, scope)] = await this.value(p.identifiers, scope);
            } else if (k === "condition") {
                s.Condition ??= {};
                for (const c of v) {
                    const t = await this.value(c.test, scope);
                    (s.Condition[t] ??= {})[await this.value(c.variable, scope)] = await this.value(c.values, scope);
                }
            } else {
                throw new Error(`policy ${doc}: statement argument ${k} is not rendered by tests/node/tf_eval.mjs`);
            }
        }
        s.Effect ??= "Allow";
        return s;
    }
}
