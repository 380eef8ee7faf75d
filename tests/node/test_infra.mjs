// test_infra.mjs: infra/*.tf parses, has the structure a user relies on, and
// every IAM policy it creates is least-privilege, as Terraform would render
// it for sample tfvars (tests/node/infra_sample.tfvars and
// infra/terraform.tfvars.example).
//
//   node tests/node/test_infra.mjs            (tests/run.sh runs it)
//   BZ_INFRA_DIR=/tmp/copy node tests/node/test_infra.mjs   (check a copy)
//
// Least-privilege rules, checked on each rendered statement:
//   - no "*" or "?" in any action (no "s3:*", no "s3:Get*"), every action in
//     the document's allowlist (DOCS), Effect Allow, no NotAction/NotResource;
//   - no resource "*"; the only wildcards allowed are "<bucket>/<prefix>*" of
//     a configured dataset or the scratch prefix, and the exceptions listed by
//     name in WILDCARD_OK (with the reason AWS requires them);
//   - S3 object reads only on the configured dataset and scratch prefixes,
//     writes (Put/Delete) only on the scratch prefix;
//   - s3:ListBucket alone in its statement, on a dataset bucket, with a
//     StringLike s3:prefix condition whose values are that bucket's prefixes;
//   - DynamoDB only on the configured tables, Invoke only on the function,
//     logs only on the function's own log group.
// The expected ARNs are computed here from the tfvars, not taken from infra/.
// Then each MUTATIONS entry (a wildcard or a widened resource put into a copy
// of the files) must make the check fail: the checker can fail.

import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig, loadTfvars, Evaluator } from "./tf_eval.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const INFRA = process.env.BZ_INFRA_DIR || join(ROOT, "infra");
const ACCOUNT = "123456789012";

let failed = 0;
const ok = (cond, what, detail = "") => {
    if (cond) console.log(`ok   ${what}`);
    else {
        failed++;
        console.log(`FAIL ${what}${detail ? ": " + detail : ""}`);
    }
    return cond;
};

const DDB_READ = ["dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan"];
// Every policy document infra/ may contain, and the actions it may grant.
const DOCS = {
    hbee_assume: { assume: "lambda.amazonaws.com" },
    worker_assume: { assume: "ec2.amazonaws.com" },
    dataset_read: { actions: ["s3:GetObject", "s3:ListBucket", ...DDB_READ] },
    hbee_runtime: { actions: ["s3:PutObject", "logs:CreateLogStream", "logs:PutLogEvents"] },
    client: { actions: ["lambda:InvokeFunction", "s3:GetObject", "s3:ListBucket", "s3:DeleteObject", ...DDB_READ] },
};
// Wildcard resources AWS requires, by document and Sid, with the only value
// allowed (a function of the expected names).
const WILDCARD_OK = {
    // Lambda creates one log stream per instance, named at run time.
    "hbee_runtime/OwnLogStreams": (x) => `arn:aws:logs:${x.region}:${ACCOUNT}:log-group:/aws/lambda/${x.name}:log-stream:*`,
};
// What a sample's policies must grant (coverage: the checks are not vacuous).
const MUST = {
    dataset_read: ["s3:GetObject", "s3:ListBucket"],
    hbee_runtime: ["s3:PutObject", "logs:PutLogEvents"],
    client: ["lambda:InvokeFunction", "s3:GetObject", "s3:ListBucket", "s3:DeleteObject"],
};

function expected(vars) {
    const name = vars.name ?? "buzzlite-hbee";
    const ds = vars.datasets;
    return {
        region: vars.region,
        name,
        datasetObjects: new Set(ds.map((d) => `arn:aws:s3:::${d.bucket}/${d.prefix}*`)),
        scratchObject: `arn:aws:s3:::${vars.scratch.bucket}/${vars.scratch.prefix}*`,
        listPrefixes: ds.reduce((m, d) => ((m[d.bucket] ??= new Set()).add(`${d.prefix}*`), m), {}),
        tables: new Set((vars.dynamodb_tables ?? []).map((t) => `arn:aws:dynamodb:${vars.region}:${ACCOUNT}:table/${t}`)),
        functionArn: `arn:aws:lambda:${vars.region}:${ACCOUNT}:function:${name}`,
    };
}

// Problems of one rendered document (empty when it is least-privilege).
function checkDocument(doc, json, x) {
    const bad = [];
    const rule = DOCS[doc];
    if (!rule) return [`${doc}: not a known policy document (add it to DOCS in this test, with its allowed actions)`];
    const granted = new Set();
    for (const [i, st] of json.Statement.entries()) {
        const at = `${doc}/${st.Sid ?? "#" + i}`;
        for (const k of Object.keys(st))
            if (!["Sid", "Effect", "Action", "Resource", "Principal", "Condition"].includes(k)) bad.push(`${at}: ${k} not allowed`);
        if (st.Effect !== "Allow") bad.push(`${at}: Effect ${st.Effect}`);
        const acts = [].concat(st.Action ?? []);
        const res = [].concat(st.Resource ?? []);
        if (!acts.length) bad.push(`${at}: no actions`);
        for (const a of acts) {
            if (!/^[a-z0-9-]+:[A-Za-z0-9]+$/.test(a)) bad.push(`${at}: action ${a} has a wildcard or is malformed`);
            granted.add(a);
        }
        if (rule.assume) {
            if (acts.join() !== "sts:AssumeRole") bad.push(`${at}: trust policy grants ${acts}`);
            if (JSON.stringify(st.Principal) !== JSON.stringify({ Service: [rule.assume] })) bad.push(`${at}: principal ${JSON.stringify(st.Principal)}`);
            if (res.length) bad.push(`${at}: trust policy with resources`);
            continue;
        }
        for (const a of acts) if (!rule.actions.includes(a)) bad.push(`${at}: action ${a} not allowed in ${doc}`);
        if (!res.length) bad.push(`${at}: no resources`);
        const services = new Set(acts.map((a) => a.split(":")[0]));
        if (services.size !== 1) bad.push(`${at}: mixes services ${[...services]}`);
        const svc = [...services][0];
        if (st.Condition && !acts.includes("s3:ListBucket") && svc !== "sts") bad.push(`${at}: unexpected condition`);
        for (const r of res) {
            if (r === "*") bad.push(`${at}: Resource "*"`);
            const wild = /[*?]/.test(r);
            if (wild && WILDCARD_OK[at]) {
                if (r !== WILDCARD_OK[at](x)) bad.push(`${at}: ${r} is not ${WILDCARD_OK[at](x)}`);
                continue;
            }
            if (svc === "s3" && acts.includes("s3:ListBucket")) continue; // below
            if (svc === "s3") {
                const writes = acts.some((a) => a !== "s3:GetObject");
                const okSet = writes ? new Set([x.scratchObject]) : new Set([...x.datasetObjects, x.scratchObject]);
                if (!okSet.has(r)) bad.push(`${at}: ${r} is not a configured ${writes ? "scratch" : "dataset or scratch"} prefix`);
            } else if (svc === "dynamodb") {
                if (!x.tables.has(r)) bad.push(`${at}: ${r} is not a configured table`);
            } else if (svc === "lambda") {
                if (r !== x.functionArn) bad.push(`${at}: ${r} is not the hbee function`);
            } else {
                bad.push(`${at}: resource ${r} of service ${svc} not allowed`);
            }
            if (wild && svc !== "s3") bad.push(`${at}: wildcard in ${r}`);
        }
        if (acts.includes("s3:ListBucket")) {
            if (acts.length !== 1) bad.push(`${at}: s3:ListBucket shares its statement with ${acts}`);
            const cond = st.Condition ?? {};
            const like = cond.StringLike?.["s3:prefix"];
            if (Object.keys(cond).join() !== "StringLike" || Object.keys(cond.StringLike).join() !== "s3:prefix" || !like?.length)
                bad.push(`${at}: s3:ListBucket without exactly a StringLike s3:prefix condition (${JSON.stringify(cond)})`);
            for (const r of res) {
                const b = r.replace(/^arn:aws:s3:::/, "");
                if (!r.startsWith("arn:aws:s3:::") || !x.listPrefixes[b]) {
                    bad.push(`${at}: ListBucket on ${r}, not a dataset bucket`);
                    continue;
                }
                for (const p of like ?? []) if (!x.listPrefixes[b].has(p)) bad.push(`${at}: s3:prefix ${p} is not a dataset prefix of ${b}`);
            }
        }
    }
    for (const a of MUST[doc] ?? []) if (!granted.has(a)) bad.push(`${doc}: does not grant ${a} (needed)`);
    // every dataset must stay readable and listable where reads are granted
    if (granted.has("s3:GetObject") && doc !== "hbee_runtime") {
        const objs = new Set(json.Statement.filter((s) => [].concat(s.Action).includes("s3:GetObject")).flatMap((s) => s.Resource));
        for (const o of x.datasetObjects) if (!objs.has(o)) bad.push(`${doc}: dataset ${o} not readable`);
        const lists = json.Statement.filter((s) => [].concat(s.Action).includes("s3:ListBucket"));
        for (const [b, ps] of Object.entries(x.listPrefixes))
            for (const p of ps)
                if (!lists.some((s) => s.Resource.includes(`arn:aws:s3:::${b}`) && s.Condition?.StringLike?.["s3:prefix"]?.includes(p)))
                    bad.push(`${doc}: ${b}/${p} not listable`);
    }
    if (x.tables.size && doc !== "hbee_runtime" && !rule.assume) {
        const t = new Set(json.Statement.filter((s) => [].concat(s.Action).includes("dynamodb:Query")).flatMap((s) => s.Resource));
        for (const a of x.tables) if (!t.has(a)) bad.push(`${doc}: table ${a} not readable`);
    }
    return bad;
}

// Structure a user relies on; returns problems.
function checkStructure(tf, exampleVars) {
    const bad = [];
    for (const [n, v] of Object.entries(tf.variable)) {
        if (typeof v.description !== "string" || v.description.length < 10) bad.push(`variable ${n}: no description`);
        if (!v.type) bad.push(`variable ${n}: no type`);
        if (!("default" in v) && !(n in exampleVars)) bad.push(`variable ${n}: required but not in terraform.tfvars.example`);
    }
    const required = Object.keys(tf.variable).filter((n) => !("default" in tf.variable[n])).sort();
    if (required.join() !== "datasets,region,scratch") bad.push(`required variables are ${required}`);
    for (const n of ["memory_mb", "timeout_s", "reserved_concurrency", "architecture", "log_retention_days", "redis_enabled", "dynamodb_tables"])
        if (!tf.variable[n]) bad.push(`variable ${n} missing`);
    if (tf.variable.memory_mb?.default !== 1769) bad.push("memory_mb default is not 1769 (one vCPU)");
    if (tf.variable.architecture?.default !== "x86_64") bad.push("architecture default is not x86_64");
    for (const n of ["aws_region", "function_name", "function_arn", "scratch_url", "redis_url", "client_env", "client_policy_arn", "worker_policy_arn", "log_group"]) {
        if (!tf.output[n]) bad.push(`output ${n} missing`);
        else if (!tf.output[n].description) bad.push(`output ${n}: no description`);
    }
    const fn = tf.resource.aws_lambda_function?.hbee;
    if (!fn) bad.push("aws_lambda_function.hbee missing");
    else {
        const want = {
            runtime: "provided.al2023", handler: "bootstrap", architectures: ["${var.architecture}"],
            memory_size: "${var.memory_mb}", timeout: "${var.timeout_s}", reserved_concurrent_executions: "${var.reserved_concurrency}",
            role: "${aws_iam_role.hbee.arn}",
        };
        for (const [k, v] of Object.entries(want))
            if (JSON.stringify(fn[k]) !== JSON.stringify(v)) bad.push(`aws_lambda_function.hbee.${k} is ${JSON.stringify(fn[k])}, want ${JSON.stringify(v)}`);
        if ("vpc_config" in fn) bad.push("the function must not be in the VPC (it reads S3 directly)");
    }
    const lg = tf.resource.aws_cloudwatch_log_group?.hbee;
    if (!lg || lg.retention_in_days !== "${var.log_retention_days}") bad.push("log group without retention_in_days = var.log_retention_days");
    // every policy attached anywhere is a rendered policy document
    const policyRefs = [];
    for (const [type, attr] of [["aws_iam_role_policy", "policy"], ["aws_iam_policy", "policy"], ["aws_iam_role", "assume_role_policy"], ["aws_iam_user_policy", "policy"], ["aws_iam_group_policy", "policy"]])
        for (const [n, r] of Object.entries(tf.resource[type] ?? {})) {
            const m = /^\$\{data\.aws_iam_policy_document\.(\w+)\.json\}$/.exec(r[attr] ?? "");
            if (!m) bad.push(`${type}.${n}.${attr} is not data.aws_iam_policy_document.<name>.json (so the test could not check it)`);
            else policyRefs.push(m[1]);
        }
    for (const t of ["aws_iam_role_policy_attachment", "aws_iam_user_policy_attachment"])
        for (const [n, r] of Object.entries(tf.resource[t] ?? {}))
            if (!/^\$\{aws_iam_policy\.\w+\.arn\}$/.test(r.policy_arn)) bad.push(`${t}.${n} attaches ${r.policy_arn}, not a policy of infra/`);
    for (const d of Object.keys(tf.data.aws_iam_policy_document ?? {}))
        if (!policyRefs.includes(d)) bad.push(`policy document ${d} is not used`);
    // the Redis security group admits 6379 from the workers' group only
    const ing = Object.values(tf.resource.aws_vpc_security_group_ingress_rule ?? {});
    for (const r of ing)
        if (r.cidr_ipv4 || r.cidr_ipv6 || r.from_port !== 6379 || r.to_port !== 6379 || r.referenced_security_group_id !== "${aws_security_group.workers[0].id}")
            bad.push(`ingress rule ${JSON.stringify(r)} is not 6379 from the workers' security group`);
    if (!ing.length) bad.push("no ingress rule for Redis");
    for (const sg of Object.values(tf.resource.aws_security_group ?? {}))
        if (sg.ingress || sg.egress) bad.push("inline ingress/egress in aws_security_group (use the rule resources)");
    // references resolve
    const text = JSON.stringify(tf);
    for (const m of text.matchAll(/\bvar\.(\w+)/g)) if (!tf.variable[m[1]]) bad.push(`var.${m[1]} not declared`);
    for (const m of text.matchAll(/\blocal\.(\w+)/g)) if (!(m[1] in tf.locals)) bad.push(`local.${m[1]} not declared`);
    return [...new Set(bad)];
}

async function checkAll(files, samples) {
    const tf = await loadConfig(INFRA, files);
    const problems = [];
    problems.push(...checkStructure(tf, samples.example));
    for (const [label, vars] of Object.entries(samples)) {
        const ev = await new Evaluator(tf, vars, { account: ACCOUNT }).init();
        const x = expected(vars);
        for (const doc of Object.keys(tf.data.aws_iam_policy_document ?? {})) {
            let json;
            try {
                json = await ev.policyDocument(doc);
            } catch (e) {
                problems.push(`${label}: ${doc}: ${e.message}`);
                continue;
            }
            problems.push(...checkDocument(doc, json, x).map((p) => `${label}: ${p}`));
        }
        // the variables' validations accept the sample
        for (const [n, v] of Object.entries(tf.variable))
            for (const val of v.validation ?? [])
                if ((await ev.value(val.condition, {})) !== true) problems.push(`${label}: var.${n} fails its validation`);
        // outputs render; client_env has what a client sets
        const env = await ev.expr('"${' + tf.output.client_env.value.slice(2, -1) + '}"', {}).catch((e) => e.message);
        const want = [`export AWS_REGION=${x.region}`, `export HBEE_FUNCTION=${x.name}\n`,
            `export HBEE_SCRATCH=s3://${vars.scratch.bucket}/${vars.scratch.prefix}`];
        if (vars.redis_enabled) want.push("export REDIS_URL=redis://");
        for (const w of want) if (!String(env).includes(w)) problems.push(`${label}: client_env lacks ${w}: ${env}`);
        if (!vars.redis_enabled && String(env).includes("REDIS_URL")) problems.push(`${label}: client_env has REDIS_URL without Redis`);
        for (const o of Object.keys(tf.output))
            await ev.value(tf.output[o].value, {}).catch((e) => problems.push(`${label}: output ${o}: ${e.message}`));
    }
    return { tf, problems };
}

// ---- run --------------------------------------------------------------------
const files = {};
for (const f of readdirSync(INFRA).filter((f) => f.endsWith(".tf")).sort()) files[f] = readFileSync(join(INFRA, f), "utf8");
ok(Object.keys(files).length >= 5, `infra/ has the Terraform files (${Object.keys(files).join(" ")})`);
ok(existsSync(join(INFRA, "README.md")), "infra/README.md exists");

// every file parses on its own (a parse error names the file)
for (const [f, text] of Object.entries(files)) {
    let err = "";
    await loadConfig(INFRA, { [f]: text }).catch((e) => (err = e.message));
    ok(!err, `${f} parses`, err);
}

const samples = {
    example: await loadTfvars(join(INFRA, "terraform.tfvars.example")),
    sample: await loadTfvars(join(ROOT, "tests", "node", "infra_sample.tfvars")),
};
samples.minimal = { region: "us-west-2", datasets: [{ bucket: "only", prefix: "d/" }], scratch: { bucket: "only", prefix: "s/" } };

const { tf, problems } = await checkAll(files, samples);
ok(problems.length === 0, `structure and least privilege for ${Object.keys(samples).join(", ")} tfvars`, "\n  " + problems.join("\n  "));

// print the rendered policies of the sample (what terraform plan would show)
{
    const ev = await new Evaluator(tf, samples.sample, { account: ACCOUNT }).init();
    for (const d of Object.keys(tf.data.aws_iam_policy_document)) {
        const j = await ev.policyDocument(d);
        console.log(`     ${d}: ${j.Statement.map((s) => `${[].concat(s.Action).join(",")} on ${[].concat(s.Resource ?? Object.values(s.Principal ?? {}).flat()).join(",")}${s.Condition ? " if " + JSON.stringify(s.Condition) : ""}`).join("; ")}`);
    }
}

// bad inputs are refused by the variables' validations
{
    const bads = [
        ["datasets", [{ bucket: "b", prefix: "x/" }], "bucket name too short"],
        ["datasets", [{ bucket: "lake", prefix: "tpch/*" }], "wildcard in a prefix"],
        ["datasets", [{ bucket: "lake", prefix: "tpch" }], "prefix without a trailing /"],
        ["datasets", [], "no dataset"],
        ["scratch", { bucket: "lake", prefix: "" }, "scratch = the whole bucket"],
        ["architecture", "sparc", "unknown architecture"],
        ["memory_mb", 64, "memory below 128 MB"],
        ["log_retention_days", 10, "retention CloudWatch does not accept"],
    ];
    for (const [n, v, why] of bads) {
        const ev = await new Evaluator(tf, { ...samples.minimal, [n]: v }, { account: ACCOUNT }).init();
        let refused = false;
        for (const val of tf.variable[n].validation ?? []) if ((await ev.value(val.condition, {})) !== true) refused = true;
        ok(refused, `validation refuses ${n} = ${JSON.stringify(v)} (${why})`);
    }
}

// mutations: each must be caught
const MUTATIONS = [
    ["lambda.tf", '"s3:GetObject"', '"s3:*"', "service wildcard action s3:*"],
    ["lambda.tf", '"s3:GetObject"', '"s3:Get*"', "partial wildcard action s3:Get*"],
    ["lambda.tf", '"dynamodb:Query"', '"dynamodb:*"', "dynamodb:* action"],
    ["lambda.tf", "resources = [local.scratch_object_arn]", 'resources = ["*"]', 'Resource "*"'],
    ["locals", "${d.bucket}/${d.prefix}*", "${d.bucket}/*", "dataset objects widened to the whole bucket"],
    ["lambda.tf", '"${aws_cloudwatch_log_group.hbee.arn}:log-stream:*"', '"arn:${local.partition}:logs:*:*:*"', "logs on every log group"],
    ["lambda.tf", 'variable = "s3:prefix"', 'variable = "s3:delimiter"', "ListBucket without the s3:prefix condition"],
    ["lambda.tf", 'test     = "StringLike"\n        variable = "s3:prefix"\n        values   = statement.value', 'test     = "StringLike"\n        variable = "s3:prefix"\n        values   = ["*"]', "ListBucket on any prefix"],
    ["lambda.tf", 'actions   = ["s3:PutObject"]', 'actions   = ["s3:PutObject", "s3:GetObject"]', "action outside the document's allowlist"],
    ["lambda.tf", "resources = [local.scratch_object_arn]", "resources = local.dataset_object_arns", "writes on a dataset prefix"],
    ["client.tf", "resources = [aws_lambda_function.hbee.arn]", 'resources = ["arn:${local.partition}:lambda:${var.region}:${local.account_id}:function:*"]', "invoke on every function"],
    ["client.tf", 'actions   = ["s3:GetObject", "s3:DeleteObject"]', 'actions   = ["s3:GetObject", "s3:DeleteObject"]\n    not_resources = ["x"]', "NotResource"],
    ["lambda.tf", 'identifiers = ["lambda.amazonaws.com"]', 'identifiers = ["*"]', "trust policy for any principal"],
    ["workers.tf", "policy      = data.aws_iam_policy_document.dataset_read.json", 'policy      = jsonencode({ Statement = [{ Effect = "Allow", Action = "*", Resource = "*" }] })', "an unchecked jsonencode policy"],
    ["workers.tf", "referenced_security_group_id = aws_security_group.workers[0].id\n  ip_protocol                  = \"tcp\"\n  from_port                    = 6379", 'cidr_ipv4                    = "0.0.0.0/0"\n  ip_protocol                  = "tcp"\n  from_port                    = 6379', "Redis open to the world"],
    ["lambda.tf", "\n  }\n}\n\n# What only the function needs", "\n  }\n\n# What only the function needs", "a syntax error"],
];
for (const [file, from, to, what] of MUTATIONS) {
    const target = file === "locals" ? "versions.tf" : file;
    if (!ok(files[target]?.includes(from), `mutation "${what}" applies to ${target}`)) continue;
    const mutated = { ...files, [target]: files[target].replace(from, to) };
    let caught;
    try {
        caught = (await checkAll(mutated, samples)).problems;
    } catch (e) {
        caught = [e.message];
    }
    ok(caught.length > 0, `mutation caught: ${what}`, "the check passed");
    if (caught.length) console.log(`     -> ${caught[0]}`);
}

console.log(failed ? `${failed} failed` : "all passed");
process.exit(failed ? 1 : 0);
