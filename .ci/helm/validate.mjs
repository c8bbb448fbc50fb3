// Validates every manifest of `helm template` output (files given as arguments) against the Kubernetes API schemas
// that the kubernetes-models package compiles in (offline). Fails on a document whose apiVersion/kind it has no
// schema for, so that nothing passes unchecked. Prints one line per file; exits 1 on the first file with errors.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

// The API schemas allow duplicate env, port and volume names (the API server merges or refuses them): not here.
function uniqueNames(doc) {
    const pod = doc.kind === "Pod" ? doc.spec : (doc.spec?.template?.spec ?? doc.spec?.jobTemplate?.spec?.template?.spec);
    if (!pod) return;
    const check = (list, what) => {
        const seen = new Set();
        for (const item of list ?? []) {
            if (seen.has(item.name)) throw new Error(`duplicate ${what} name ${item.name}`);
            seen.add(item.name);
        }
    };
    check(pod.volumes, "volume");
    check(pod.containers, "container");
    for (const c of pod.containers ?? []) {
        check(c.env, `env (container ${c.name})`);
        check(c.ports, `port (container ${c.name})`);
        check(c.volumeMounts, `volume mount (container ${c.name})`);
    }
}

let failed = 0;
for (const file of process.argv.slice(2)) {
    const docs = parseAllDocuments(readFileSync(file, "utf8")).map(d => {
        if (d.errors.length) throw new Error(`${file}: YAML error ${d.errors[0].message}`);
        return d.toJS();
    }).filter(d => d !== null);
    const kinds = [];
    for (const doc of docs) {
        const where = `${file}: ${doc.kind ?? "?"} ${doc.metadata?.name ?? "?"}`;
        if (!doc.apiVersion || !doc.kind || !doc.metadata?.name) {
            console.error(`${where}: apiVersion, kind and metadata.name are required`);
            failed++;
            continue;
        }
        const module = `kubernetes-models/${doc.apiVersion}/${doc.kind}`;
        let Model;
        try {
            Model = (await import(module))[doc.kind];
        } catch {
            Model = undefined;
        }
        if (!Model) {
            console.error(`${where}: no schema for ${doc.apiVersion} ${doc.kind}`);
            failed++;
            continue;
        }
        try {
            new Model(doc).validate();
            uniqueNames(doc);
            kinds.push(doc.kind);
        } catch (e) {
            console.error(`${where}: ${e.message}`);
            failed++;
        }
    }
    console.log(`${file}: ${kinds.length} of ${docs.length} manifests valid (${kinds.join(", ")})`);
}
process.exit(failed === 0 ? 0 : 1);
