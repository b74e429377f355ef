// Validates Kubernetes objects (JSON array on stdin) against the Kubernetes API schemas of the
// npm package kubernetes-models, and @kubernetes-models/prometheus-operator for the monitoring
// objects (offline). A separate process because kubernetes-models is
// an ES module, which the tests' CommonJS cannot load. Prints
// { "invalid": [{ "object", "error" }], "unknown": ["<apiVersion> <kind> <name>"] }:
// unknown = a kind the package has no schema for (a custom resource).
import { text } from 'node:stream/consumers';

const objects = JSON.parse(await text(process.stdin));
const invalid = [];
const unknown = [];
for (const object of objects) {
  const id = `${object.apiVersion} ${object.kind} ${object.metadata?.name}`;
  let Model;
  // The Prometheus Operator's resources (PodMonitor, PrometheusRule) have a package of their own.
  const models = object.apiVersion.startsWith('monitoring.coreos.com/') ? '@kubernetes-models/prometheus-operator' : 'kubernetes-models';
  try {
    Model = (await import(`${models}/${object.apiVersion}`))[object.kind];
  } catch {
    Model = undefined;
  }
  if (!Model) {
    unknown.push(id);
    continue;
  }
  try {
    new Model(object).validate();
  } catch (err) {
    invalid.push({ object: id, error: String(err.message ?? err) });
  }
}
process.stdout.write(JSON.stringify({ invalid, unknown }));
