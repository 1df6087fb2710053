import { resolve } from 'node:path';
import { crdDrift, renderCrds } from '../../src/operator/resources/generate-crds.js';
import { operatorCrds, type SchemaNode } from '../../src/operator/resources/crd.js';
import { PeeringRequestSpecSchema } from '../../src/operator/resources/peering-request.js';
import {
  PeeringSessionSpecSchema,
  SESSION_SPEC_RULES,
} from '../../src/operator/resources/peering-session.js';
import { brokenTransitionRules } from '../../src/operator/resources/rules.js';
import { BAD_MANIFESTS, SESSION_COLUMNS, badObject, goodRequest, goodSession } from './fixtures/manifests.js';

const CRDS_DIR = resolve(import.meta.dirname, '../../../crds');

function walk(node: SchemaNode, path: string, visit: (node: SchemaNode, path: string) => void): void {
  visit(node, path);
  for (const [key, child] of Object.entries((node['properties'] as Record<string, SchemaNode>) ?? {})) {
    walk(child, `${path}.${key}`, visit);
  }
  if (node['items']) walk(node['items'] as SchemaNode, `${path}[]`, visit);
}

function versionOf(file: string) {
  const crd = operatorCrds()[file];
  if (!crd) throw new Error(`no CRD ${file}`);
  return (crd.spec['versions'] as Record<string, unknown>[])[0] as {
    additionalPrinterColumns: { name: string; jsonPath: string; priority?: number }[];
    schema: { openAPIV3Schema: SchemaNode };
    subresources: unknown;
  };
}

describe('CRDs generated from the zod schemas', () => {
  it('match the checked-in crds/ (regenerate with generate-crds.js when this fails)', () => {
    expect(crdDrift(CRDS_DIR)).toEqual([]);
  });

  it('are structural: every schema node has a type and none mixes properties with additionalProperties', () => {
    for (const file of Object.keys(renderCrds())) {
      walk(versionOf(file).schema.openAPIV3Schema, file, (node, path) => {
        expect({ path, type: node['type'] }).toEqual({ path, type: expect.any(String) });
        expect({
          path,
          both: node['properties'] !== undefined && node['additionalProperties'] !== undefined,
        }).toEqual({ path, both: false });
        expect({ path, anyOf: node['anyOf'] }).toEqual({ path, anyOf: undefined });
      });
    }
  });

  it('give sessions the columns a peering coordinator asks for, with session id and message only in -o wide', () => {
    const columns = versionOf('peering.autopeer.dev_peeringsessions.yaml').additionalPrinterColumns;
    expect(columns.filter((c) => !c.priority).map((c) => c.name.toUpperCase())).toEqual(SESSION_COLUMNS);
    expect(columns.filter((c) => c.priority === 1).map((c) => c.name.toUpperCase())).toEqual([
      'SESSION ID',
      'ROUTER',
      'MESSAGE',
    ]);
  });

  it('have a status subresource, short names and the peering category', () => {
    for (const crd of Object.values(operatorCrds())) {
      const names = crd.spec['names'] as { shortNames: string[]; categories: string[] };
      expect(names.categories).toEqual(['peering']);
      expect(names.shortNames.length).toBeGreaterThan(0);
      expect((crd.spec['versions'] as { subresources: unknown }[])[0]?.subresources).toEqual({ status: {} });
    }
  });
});

describe('the same cross-field rules checked by the operator itself', () => {
  it('accept the good manifests', () => {
    expect(PeeringRequestSpecSchema.safeParse(goodRequest()['spec']).error).toBeUndefined();
    expect(PeeringSessionSpecSchema.safeParse(goodSession()['spec']).error).toBeUndefined();
  });

  it.each(BAD_MANIFESTS.map((b) => [b.name, b] as const))('refuse %s, naming the field', (_name, bad) => {
    const schema = bad.kind === 'PeeringRequest' ? PeeringRequestSpecSchema : PeeringSessionSpecSchema;
    const result = schema.safeParse(badObject(bad)['spec']);
    expect(result.success).toBe(false);
    const issues = result.error?.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) ?? [];
    expect(issues).toContainEqual({ path: bad.field, message: expect.stringContaining(bad.message) });
  });

  it('refuse changing what identifies a session (transition rules)', () => {
    const old = PeeringSessionSpecSchema.parse(goodSession()['spec']);
    const moved = { ...old, peerIp: '192.0.2.3' };
    expect(brokenTransitionRules(SESSION_SPEC_RULES, moved, old).map((r) => r.message)).toEqual([
      'peerIp is immutable',
    ]);
    expect(
      brokenTransitionRules(SESSION_SPEC_RULES, { ...old, localBgpRole: 4, peerBgpRole: 4 }, old),
    ).toEqual([]);
  });
});
