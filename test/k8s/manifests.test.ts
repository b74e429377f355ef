import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { K8S_DIR, kustomize, type K8sObject } from './kustomize';

// k8s/: the base and both overlays render (with the renderer of kustomize.ts, and with
// `kubectl kustomize` too where kubectl is installed: both must give the same objects), every
// object is valid against the Kubernetes schemas (kubernetes-models, offline), and the rules
// of k8s/README.md hold: probes, limits, a locked-down security context, config from
// ConfigMaps and secrets from Secrets, a PodDisruptionBudget per part, NetworkPolicies that
// let in only each service's callers (and Prometheus to the metrics port), alerts on metrics
// the code defines, each explained in the runbook.

const ROOT = join(__dirname, '..', '..');
const SERVICES = ['identity', 'catalog', 'assignment', 'notification', 'statistics', 'import', 'assessment'];
const PARTS = [...SERVICES, 'gateway'];
const KUSTOMIZATIONS = ['base', 'overlays/small', 'overlays/production'];

type Container = {
  name: string;
  image: string;
  ports: { name: string; containerPort: number }[];
  envFrom: { configMapRef: { name: string } }[];
  env: { name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  resources: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    runAsNonRoot?: boolean;
    capabilities?: { drop?: string[] };
  };
};
type Probe = { grpc?: { port: number }; httpGet?: { path: string; port: string | number } };
type Deployment = K8sObject & {
  spec: {
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels: Record<string, string> };
      spec: {
        automountServiceAccountToken?: boolean;
        securityContext?: { runAsNonRoot?: boolean; seccompProfile?: { type: string } };
        containers: Container[];
      };
    };
  };
};
type NetworkPolicy = K8sObject & {
  spec: {
    podSelector: { matchLabels: Record<string, string> };
    policyTypes: string[];
    ingress: {
      from?: { podSelector?: { matchLabels: Record<string, string> }; namespaceSelector?: { matchLabels: Record<string, string> } }[];
      ports: { port: number }[];
    }[];
  };
};
type PrometheusRule = K8sObject & { spec: { groups: { rules: { alert: string; expr: string; for: string }[] }[] } };

/** The port Prometheus scrapes on a part: the services' `metrics`, the gateway's `health`. */
const metricsPortName = (part: string) => (part === 'gateway' ? 'health' : 'metrics');

const rendered = Object.fromEntries(KUSTOMIZATIONS.map((k) => [k, kustomize(join(K8S_DIR, k))]));
const ofKind = <T extends K8sObject>(objects: K8sObject[], kind: string) => objects.filter((o) => o.kind === kind) as T[];
const named = <T extends K8sObject>(objects: K8sObject[], kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.metadata.name === name) as T | undefined;

/** The .ts files under dir, recursively. */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** The *_ADDRESS variables a part's configuration schema reads: the services it calls. */
function upstreamsInSource(part: string): string[] {
  const source = readFileSync(join(ROOT, part === 'gateway' ? 'gateway/src/config.ts' : `services/${part}/src/config.ts`), 'utf8');
  return [...source.matchAll(/\b([A-Z]+)_ADDRESS:/g)].map((m) => m[1]!.toLowerCase()).sort();
}

describe.each(KUSTOMIZATIONS)('k8s/%s', (kustomization) => {
  const objects = rendered[kustomization]!;
  const deployments = ofKind<Deployment>(objects, 'Deployment');

  it('renders a Deployment, a Service and a PodDisruptionBudget per part, all valid against the Kubernetes schemas', () => {
    for (const kind of ['Deployment', 'Service', 'PodDisruptionBudget', 'NetworkPolicy']) {
      expect(
        ofKind(objects, kind)
          .map((o) => o.metadata.name)
          .sort(),
      ).toEqual([...PARTS].sort());
    }
    const names = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(new Set(names).size).toBe(names.length);
    const validation = spawnSync(process.execPath, [join(__dirname, 'validate.mjs')], {
      input: JSON.stringify(objects),
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    expect(validation.stderr).toBe('');
    const { invalid, unknown } = JSON.parse(validation.stdout) as { invalid: unknown[]; unknown: string[] };
    expect(invalid).toEqual([]);
    // The only custom resource: the CloudNativePG cluster of the overlays.
    expect(unknown).toEqual(kustomization === 'base' ? [] : ['postgresql.cnpg.io/v1 Cluster assistants-db']);
  });

  it('gives every container probes, requests and limits, and a non-root, read-only, unprivileged security context', () => {
    for (const deployment of deployments) {
      const pod = deployment.spec.template.spec;
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(pod.automountServiceAccountToken).toBe(false);
      for (const container of pod.containers) {
        const where = `${deployment.metadata.name}/${container.name}`;
        expect({ where, ...container.securityContext }).toEqual({
          where,
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          capabilities: { drop: ['ALL'] },
        });
        for (const kind of ['requests', 'limits'] as const) {
          expect(Object.keys(container.resources[kind] ?? {}).sort()).toEqual(['cpu', 'memory']);
        }
        if (deployment.metadata.name === 'gateway') {
          expect(container.readinessProbe?.httpGet).toEqual({ path: '/healthz', port: 'health' });
          expect(container.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'health' });
          expect(container.ports.find((p) => p.name === 'health')?.containerPort).toBe(3001);
        } else {
          // grpc.health.v1 on the port the service listens on.
          const port = container.ports.find((p) => p.name === 'grpc')!.containerPort;
          expect([container.readinessProbe?.grpc, container.livenessProbe?.grpc, container.startupProbe?.grpc]).toEqual([
            { port },
            { port },
            { port },
          ]);
        }
      }
    }
  });

  it('reads configuration from ConfigMaps that exist and secrets from Secrets, never from literals', () => {
    for (const deployment of deployments) {
      const part = deployment.metadata.name;
      const container = deployment.spec.template.spec.containers[0]!;
      const configMaps = container.envFrom.map((e) =>
        named<K8sObject & { data: Record<string, string> }>(objects, 'ConfigMap', e.configMapRef.name),
      );
      expect(configMaps.every(Boolean)).toBe(true);
      const config = Object.assign({}, ...configMaps.map((c) => c!.data)) as Record<string, string>;
      expect(container.env.every((e) => e.valueFrom?.secretKeyRef)).toBe(true);
      const secrets = container.env.map((e) => e.name);
      expect(secrets).toEqual(expect.arrayContaining(['ASSISTANTS_SERVICE_TOKEN', 'DATABASE_URL']));
      for (const name of Object.keys(config)) expect(name).not.toMatch(/TOKEN|SECRET|PASSWORD|DATABASE_URL/);
      // Listening beyond the pod, on the port its Service and probes use.
      if (part === 'gateway') {
        expect(config).toMatchObject({ GATEWAY_HOST: '0.0.0.0', GATEWAY_PORT: '3000', GATEWAY_HEALTH_PORT: '3001' });
      } else {
        const p = part.toUpperCase();
        expect(config[`${p}_GRPC_HOST`]).toBe('0.0.0.0');
        expect(Number(config[`${p}_GRPC_PORT`])).toBe(container.ports[0]!.containerPort);
      }
      // Every service the part's configuration schema calls, at its Service's name and port.
      const upstreams = Object.keys(config)
        .filter((k) => k.endsWith('_ADDRESS'))
        .map((k) => k.replace(/_ADDRESS$/, '').toLowerCase())
        .sort();
      expect({ part, upstreams }).toEqual({ part, upstreams: upstreamsInSource(part) });
      for (const upstream of upstreams) {
        const service = named<K8sObject & { spec: { ports: { port: number }[] } }>(objects, 'Service', upstream)!;
        expect(config[`${upstream.toUpperCase()}_ADDRESS`]).toBe(`${upstream}:${service.spec.ports[0]!.port}`);
      }
    }
    // Secrets are never part of the manifests: the platform creates them (k8s/README.md).
    expect(ofKind(objects, 'Secret')).toEqual([]);
  });

  it('lets into each service only its callers, and into the gateway anyone on its API port only', () => {
    const callers = new Map<string, string[]>(SERVICES.map((s) => [s, []]));
    for (const deployment of deployments) {
      const envFrom = deployment.spec.template.spec.containers[0]!.envFrom;
      for (const { configMapRef } of envFrom) {
        const data = named<K8sObject & { data: Record<string, string> }>(objects, 'ConfigMap', configMapRef.name)!.data;
        for (const key of Object.keys(data).filter((k) => k.endsWith('_ADDRESS'))) {
          callers.get(key.replace(/_ADDRESS$/, '').toLowerCase())!.push(deployment.metadata.name);
        }
      }
    }
    for (const service of ofKind<K8sObject & { spec: { selector: Record<string, string>; ports: { targetPort: string }[] } }>(
      objects,
      'Service',
    )) {
      const part = service.metadata.name;
      const policy = ofKind<NetworkPolicy>(objects, 'NetworkPolicy').find(
        (p) => JSON.stringify(p.spec.podSelector.matchLabels) === JSON.stringify(service.spec.selector),
      );
      expect(policy).toBeDefined();
      expect(policy!.spec.policyTypes).toEqual(['Ingress']);
      const deployment = named<Deployment>(objects, 'Deployment', part)!;
      expect(deployment.spec.template.metadata.labels).toMatchObject(service.spec.selector);
      const port = deployment.spec.template.spec.containers[0]!.ports.find(
        (p) => p.name === service.spec.ports[0]!.targetPort,
      )!.containerPort;
      expect(policy!.spec.ingress).toHaveLength(2);
      const [rule, monitoring] = policy!.spec.ingress;
      // Prometheus, from the namespace monitoring only, on the metrics port only.
      const metricsPort = deployment.spec.template.spec.containers[0]!.ports.find((p) => p.name === metricsPortName(part))!.containerPort;
      expect(monitoring).toEqual({
        from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
        ports: [{ protocol: 'TCP', port: metricsPort }],
      });
      expect(rule!.ports.map((p) => p.port)).toEqual([port]);
      if (part === 'gateway') {
        expect(rule!.from).toBeUndefined();
      } else {
        const allowed = rule!.from!.map((f) => f.podSelector!.matchLabels['app.kubernetes.io/name']).sort();
        expect({ part, allowed }).toEqual({ part, allowed: callers.get(part)!.sort() });
        expect(allowed.length).toBeGreaterThan(0);
      }
    }
  });

  it('serves metrics on a port of every Deployment, which the PodMonitor scrapes', () => {
    for (const deployment of deployments) {
      const part = deployment.metadata.name;
      const container = deployment.spec.template.spec.containers[0]!;
      const port = container.ports.find((p) => p.name === metricsPortName(part));
      expect({ part, port: port?.containerPort }).toEqual({ part, port: expect.any(Number) });
      if (part !== 'gateway') {
        const config = Object.assign(
          {},
          ...container.envFrom.map(
            (e) => named<K8sObject & { data: Record<string, string> }>(objects, 'ConfigMap', e.configMapRef.name)!.data,
          ),
        ) as Record<string, string>;
        expect(Number(config[`${part.toUpperCase()}_METRICS_PORT`])).toBe(port!.containerPort);
      }
    }
    const monitor = named<
      K8sObject & { spec: { selector: { matchLabels: Record<string, string> }; podMetricsEndpoints: { port: string; path: string }[] } }
    >(objects, 'PodMonitor', 'assistants')!;
    expect(monitor.spec.podMetricsEndpoints.map((e) => [e.port, e.path]).sort()).toEqual([
      ['health', '/metrics'],
      ['metrics', '/metrics'],
    ]);
    for (const deployment of deployments) expect(deployment.spec.template.metadata.labels).toMatchObject(monitor.spec.selector.matchLabels);
  });

  it('alerts only on metrics the code defines, each alert with its runbook entry', () => {
    const rules = ofKind<PrometheusRule>(objects, 'PrometheusRule').flatMap((r) => r.spec.groups.flatMap((g) => g.rules));
    expect(rules.map((r) => r.alert)).toEqual(
      expect.arrayContaining([
        'AssistantsOutboxStuck',
        'AssistantsConsumerLagGrowing',
        'AssistantsDeadLetters',
        'AssistantsGrpcErrors',
        'AssistantsImportJobStuck',
      ]),
    );
    const sources = ['services/kit/src', 'gateway/src', ...SERVICES.map((s) => `services/${s}/src`)]
      .flatMap((dir) => sourceFiles(join(ROOT, dir)))
      .map((file) => readFileSync(file, 'utf8'))
      .join('\n');
    const runbook = readFileSync(join(ROOT, 'deploy', 'README.md'), 'utf8');
    for (const rule of rules) {
      const metrics = [...rule.expr.matchAll(/\b((?:assistants|grpc_server)_[a-z_]+)\b/g)].map((m) => m[1]!);
      expect({ alert: rule.alert, metrics: metrics.length > 0 }).toEqual({ alert: rule.alert, metrics: true });
      for (const metric of metrics)
        expect({ alert: rule.alert, metric, defined: sources.includes(`'${metric}'`) }).toMatchObject({ defined: true });
      expect(runbook).toContain(`### ${rule.alert}\n`);
    }
  });

  it('gives every part a PodDisruptionBudget, and autoscalers only to Deployments that exist', () => {
    for (const deployment of deployments) {
      const pdb = ofKind<K8sObject & { spec: { selector: { matchLabels: Record<string, string> } } }>(objects, 'PodDisruptionBudget').find(
        (p) => JSON.stringify(p.spec.selector.matchLabels) === JSON.stringify(deployment.spec.selector.matchLabels),
      );
      expect(pdb).toBeDefined();
    }
    const hpas = ofKind<K8sObject & { spec: { scaleTargetRef: { kind: string; name: string }; minReplicas: number; maxReplicas: number } }>(
      objects,
      'HorizontalPodAutoscaler',
    );
    expect(hpas.map((h) => h.metadata.name).sort()).toEqual(['assignment', 'gateway', 'identity', 'import', 'notification']);
    for (const hpa of hpas) {
      const target = named<Deployment>(objects, hpa.spec.scaleTargetRef.kind, hpa.spec.scaleTargetRef.name);
      expect(target).toBeDefined();
      expect(hpa.spec.minReplicas).toBe(target!.spec.replicas);
      expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
    }
  });
});

describe('the overlays', () => {
  const config = (k: string) => named<K8sObject & { data: Record<string, string> }>(rendered[k]!, 'ConfigMap', 'assistants-config')!.data;
  const replicas = (k: string) => ofKind<Deployment>(rendered[k]!, 'Deployment').map((d) => d.spec.replicas);

  it('small: one replica of each part, streams with one copy', () => {
    expect(new Set(replicas('overlays/small'))).toEqual(new Set([1]));
    expect(config('overlays/small').EVENTS_STREAM_REPLICAS).toBe('1');
  });

  it('production: three replicas of each part, streams with three copies, a three-instance PostgreSQL cluster', () => {
    expect(new Set(replicas('overlays/production'))).toEqual(new Set([3]));
    expect(config('overlays/production')).toMatchObject({ EVENTS_STREAM_REPLICAS: '3', NATS_URL: 'nats://nats:4222' });
    const cluster = named<K8sObject & { spec: { instances: number; bootstrap: unknown } }>(
      rendered['overlays/production']!,
      'Cluster',
      'assistants-db',
    )!;
    expect(cluster.spec.instances).toBe(3);
    // Its generated Secret is "<cluster>-app", the DATABASE_URL of every part.
    const gateway = named<Deployment>(rendered['overlays/production']!, 'Deployment', 'gateway')!;
    const databaseUrl = gateway.spec.template.spec.containers[0]!.env.find((e) => e.name === 'DATABASE_URL')!;
    expect(databaseUrl.valueFrom!.secretKeyRef).toEqual({ name: `${cluster.metadata.name}-app`, key: 'uri' });
  });

  it.each(KUSTOMIZATIONS.slice(1))('%s: pulls the images from the registry, in the namespace assistants', (k) => {
    for (const o of rendered[k]!) expect(o.metadata.namespace).toBe('assistants');
    for (const d of ofKind<Deployment>(rendered[k]!, 'Deployment')) {
      expect(d.spec.template.spec.containers[0]!.image).toBe(`registry.example.org/assistants/${d.metadata.name}:1.0.0`);
    }
  });

  const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
  (kubectl ? it.each(KUSTOMIZATIONS) : it.skip.each(KUSTOMIZATIONS))('%s: kubectl kustomize renders the same objects', (k) => {
    const result = spawnSync('kubectl', ['kustomize', join(K8S_DIR, k)], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    expect(result.stderr).toBe('');
    const byKey = (objects: K8sObject[]) =>
      Object.fromEntries(
        objects.map((o): [string, K8sObject] => [`${o.apiVersion} ${o.kind} ${o.metadata.name}`, o]).sort(([a], [b]) => a.localeCompare(b)),
      );
    const fromKubectl = parseAllDocuments(result.stdout).map((d) => d.toJS() as K8sObject);
    expect(byKey(fromKubectl)).toEqual(byKey(rendered[k]!));
  });
});
