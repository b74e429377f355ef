import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseAllDocuments } from 'yaml';

/** A Kubernetes object as rendered. */
export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
};

type Json = unknown;
type JsonObject = Record<string, Json>;

/** The part of kustomize that k8s/ uses, so that the tests render the overlays without
 * kubectl: resources (files and directories), patches (a strategic-merge file naming its
 * targets by kind and name, or inline JSON 6902 operations on a target kind and optional
 * name), labels (metadata only), images (newName/newTag) and namespace. Anything else in a
 * kustomization is refused rather than silently ignored. */
export function kustomize(dir: string): K8sObject[] {
  const k = parse(join(dir, 'kustomization.yaml'))[0] as JsonObject;
  const known = ['apiVersion', 'kind', 'resources', 'patches', 'labels', 'images', 'namespace'];
  const unknown = Object.keys(k).filter((key) => !known.includes(key));
  if (unknown.length > 0) throw new Error(`${dir}/kustomization.yaml: not supported by this renderer: ${unknown.join(', ')}`);
  let objects: K8sObject[] = [];
  for (const resource of (k.resources ?? []) as string[]) {
    const path = join(dir, resource);
    objects.push(...(statSync(path).isDirectory() ? kustomize(path) : (parse(path) as K8sObject[])));
  }
  for (const patch of (k.patches ?? []) as JsonObject[]) {
    if (typeof patch.path === 'string') {
      for (const p of parse(join(dir, patch.path)) as K8sObject[]) {
        const target = objects.find((o) => o.kind === p.kind && o.metadata.name === p.metadata.name);
        if (!target) throw new Error(`${dir}: patch ${patch.path}: no ${p.kind} ${p.metadata.name}`);
        objects = objects.map((o) => (o === target ? (strategicMerge(o, p) as K8sObject) : o));
      }
    } else {
      const target = patch.target as { kind: string; name?: string };
      const operations = parseText(String(patch.patch))[0] as { op: string; path: string; value?: Json }[];
      objects = objects.map((o) =>
        o.kind === target.kind && (target.name === undefined || o.metadata.name === target.name) ? json6902(o, operations) : o,
      );
    }
  }
  for (const { pairs } of (k.labels ?? []) as { pairs: Record<string, string> }[]) {
    objects = objects.map((o) => ({ ...o, metadata: { ...o.metadata, labels: { ...o.metadata.labels, ...pairs } } }));
  }
  for (const image of (k.images ?? []) as { name: string; newName?: string; newTag?: string }[]) {
    objects = objects.map((o) => retag(o, image));
  }
  if (typeof k.namespace === 'string')
    objects = objects.map((o) => ({ ...o, metadata: { ...o.metadata, namespace: k.namespace as string } }));
  return objects;
}

function parse(file: string): Json[] {
  return parseText(readFileSync(file, 'utf8'), file);
}

function parseText(text: string, file = 'inline patch'): Json[] {
  return parseAllDocuments(text).flatMap((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]!.message}`);
    const value = doc.toJS() as Json;
    return value === null ? [] : [value];
  });
}

const isObject = (v: Json): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Strategic merge as kustomize does it for what k8s/ patches: maps merge, lists of named
 * items (containers, env, ports, volumes) merge by name, other lists are replaced, null
 * removes a field. */
export function strategicMerge(base: Json, patch: Json): Json {
  if (isObject(base) && isObject(patch)) {
    const merged: JsonObject = { ...base };
    for (const [key, value] of Object.entries(patch)) {
      if (value === null) delete merged[key];
      else merged[key] = key in base ? strategicMerge(base[key], value) : value;
    }
    return merged;
  }
  if (Array.isArray(base) && Array.isArray(patch) && [...base, ...patch].every((i) => isObject(i) && typeof i.name === 'string')) {
    const merged = base.map((item) => {
      const match = patch.find((p) => (p as JsonObject).name === (item as JsonObject).name);
      return match ? strategicMerge(item, match) : item;
    });
    return [...merged, ...patch.filter((p) => !base.some((b) => (b as JsonObject).name === (p as JsonObject).name))];
  }
  return patch;
}

/** JSON patch (RFC 6902): add, replace and remove. */
function json6902(object: K8sObject, operations: { op: string; path: string; value?: Json }[]): K8sObject {
  const copy = structuredClone(object);
  for (const { op, path, value } of operations) {
    const keys = path
      .split('/')
      .slice(1)
      .map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = keys.pop()!;
    let parent: Json = copy;
    for (const key of keys) parent = (parent as JsonObject)[key];
    if (!isObject(parent) && !Array.isArray(parent)) throw new Error(`${object.kind} ${object.metadata.name}: no ${path}`);
    const container = parent as JsonObject & Json[];
    if (op === 'remove') {
      if (Array.isArray(container)) container.splice(Number(last), 1);
      else delete container[last];
    } else if (op === 'add' && Array.isArray(container)) {
      container.splice(last === '-' ? container.length : Number(last), 0, value);
    } else if (op === 'add' || op === 'replace') {
      if (op === 'replace' && !(last in container))
        throw new Error(`${object.kind} ${object.metadata.name}: nothing at ${path} to replace`);
      container[last] = value;
    } else {
      throw new Error(`JSON patch operation ${op} is not supported by this renderer`);
    }
  }
  return copy;
}

/** The images transformer: containers whose image is `name` (any tag) get newName:newTag. */
function retag(object: K8sObject, image: { name: string; newName?: string; newTag?: string }): K8sObject {
  const spec = (object.spec as { template?: { spec?: { containers?: { image: string }[]; initContainers?: { image: string }[] } } })
    ?.template?.spec;
  if (!spec) return object;
  const copy = structuredClone(object);
  const podSpec = (copy.spec as { template: { spec: typeof spec } }).template.spec;
  for (const container of [...(podSpec.containers ?? []), ...(podSpec.initContainers ?? [])]) {
    const [name, tag] = splitImage(container.image);
    if (name === image.name) container.image = `${image.newName ?? name}${image.newTag ? `:${image.newTag}` : tag ? `:${tag}` : ''}`;
  }
  return copy;
}

function splitImage(image: string): [string, string | undefined] {
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  return colon > slash ? [image.slice(0, colon), image.slice(colon + 1)] : [image, undefined];
}

/** The folder of k8s/, from the tests. */
export const K8S_DIR = join(dirname(dirname(__dirname)), 'k8s');
