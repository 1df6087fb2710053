import { z } from 'zod';
import {
  CATEGORIES,
  GROUP,
  PEERING_APPROVAL,
  PEERING_REQUEST,
  PEERING_SESSION,
  ROUTER,
  VERSION,
  type KindNames,
} from './api-group.js';
import { RouterSpecSchema, RouterStatusSchema } from './router.js';
import { PeeringApprovalSpecSchema, PeeringApprovalStatusSchema } from './peering-approval.js';
import { PeeringRequestSpecSchema, PeeringRequestStatusSchema } from './peering-request.js';
import { PeeringSessionSpecSchema, PeeringSessionStatusSchema } from './peering-session.js';
import { FIELD_VALIDATIONS } from './rules.js';

/** A JSON Schema node as the CRD carries it (OpenAPI v3, structural). */
export type SchemaNode = { [key: string]: unknown };

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  priority?: number;
}

/** A CustomResourceDefinition object (apiextensions.k8s.io/v1), ready for YAML. */
export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels?: Record<string, string> };
  spec: Record<string, unknown>;
}

const READY = '.status.conditions[?(@.type=="Ready")].status';
const READY_MESSAGE = '.status.conditions[?(@.type=="Ready")].message';

export const SESSION_PRINTER_COLUMNS: PrinterColumn[] = [
  { name: 'Peer ASN', type: 'integer', jsonPath: '.spec.peerAsn' },
  { name: 'Location', type: 'string', jsonPath: '.spec.location.id' },
  { name: 'Local IP', type: 'string', jsonPath: '.spec.localIp' },
  { name: 'Peer IP', type: 'string', jsonPath: '.spec.peerIp' },
  { name: 'State', type: 'string', jsonPath: '.status.state', description: "The draft's session status" },
  { name: 'BGP', type: 'string', jsonPath: '.status.bgp.state', description: 'BGP state on our router' },
  { name: 'Ready', type: 'string', jsonPath: READY },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  { name: 'Session ID', type: 'string', jsonPath: '.spec.sessionId', priority: 1 },
  { name: 'Router', type: 'string', jsonPath: '.status.router.name', priority: 1 },
  { name: 'Message', type: 'string', jsonPath: READY_MESSAGE, priority: 1 },
];

export const REQUEST_PRINTER_COLUMNS: PrinterColumn[] = [
  { name: 'Direction', type: 'string', jsonPath: '.spec.direction' },
  { name: 'Peer ASN', type: 'integer', jsonPath: '.spec.peerAsn' },
  { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
  { name: 'Accepted', type: 'integer', jsonPath: '.status.sessionCounts.accepted' },
  { name: 'Pending', type: 'integer', jsonPath: '.status.sessionCounts.pending', priority: 1 },
  { name: 'Rejected', type: 'integer', jsonPath: '.status.sessionCounts.rejected' },
  { name: 'Ready', type: 'string', jsonPath: READY },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  { name: 'Request ID', type: 'string', jsonPath: '.status.requestId', priority: 1 },
  { name: 'Message', type: 'string', jsonPath: READY_MESSAGE, priority: 1 },
];

const CONNECTED = '.status.conditions[?(@.type=="RouterConnected")].status';

export const ROUTER_PRINTER_COLUMNS: PrinterColumn[] = [
  { name: 'Driver', type: 'string', jsonPath: '.spec.driver' },
  { name: 'Connected', type: 'string', jsonPath: CONNECTED, description: "The agent's heartbeat is fresh" },
  { name: 'Assigned', type: 'integer', jsonPath: '.status.sessions.assigned' },
  { name: 'Configured', type: 'integer', jsonPath: '.status.sessions.configured' },
  { name: 'Established', type: 'integer', jsonPath: '.status.sessions.established' },
  { name: 'Last Seen', type: 'date', jsonPath: '.status.agent.heartbeatTime' },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  { name: 'Addresses', type: 'string', jsonPath: '.spec.addresses', priority: 1 },
  { name: 'Agent', type: 'string', jsonPath: '.status.agent.identity', priority: 1 },
  {
    name: 'Message',
    type: 'string',
    jsonPath: '.status.conditions[?(@.type=="RouterConnected")].message',
    priority: 1,
  },
];

export const APPROVAL_PRINTER_COLUMNS: PrinterColumn[] = [
  { name: 'Peer ASN', type: 'integer', jsonPath: '.spec.peerAsn' },
  { name: 'Request', type: 'string', jsonPath: '.spec.request' },
  { name: 'Ready', type: 'string', jsonPath: READY },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  { name: 'Message', type: 'string', jsonPath: READY_MESSAGE, priority: 1 },
];

/**
 * zod → a structural OpenAPI v3 schema (what a CRD requires): every node typed, no `anyOf` of alternatives,
 * no `additionalProperties` beside `properties`, literal unions as enums.
 */
export function structuralSchema(schema: z.ZodType): SchemaNode {
  const json = z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'throw' });
  return structural(json as SchemaNode);
}

function structural(node: SchemaNode): SchemaNode {
  let out: SchemaNode = { ...node };
  delete out['$schema'];
  delete out['id'];
  if (Array.isArray(out['anyOf'])) out = collapseLiteralUnion(out);
  if ('const' in out) {
    out['enum'] = [out['const']];
    delete out['const'];
  }
  if (out['type'] === 'number' && Array.isArray(out['enum']) && out['enum'].every(Number.isInteger)) {
    out['type'] = 'integer';
  }
  // Formats Kubernetes checks itself; zod's equivalent regexes use syntax RE2 does not need.
  if (out['format'] === 'uuid' || out['format'] === 'date-time' || out['format'] === 'uri')
    delete out['pattern'];
  if (out['format'] === 'uri') delete out['format'];
  // zod states "an integer" as the safe-integer range; Kubernetes needs no such bound.
  if (out['maximum'] === Number.MAX_SAFE_INTEGER) delete out['maximum'];
  if (out['minimum'] === Number.MIN_SAFE_INTEGER) delete out['minimum'];
  if (out['properties'] !== undefined) {
    delete out['additionalProperties'];
    const onFields = (out[FIELD_VALIDATIONS] ?? {}) as Record<string, SchemaNode[]>;
    delete out[FIELD_VALIDATIONS];
    const properties: Record<string, SchemaNode> = {};
    for (const [key, value] of Object.entries(out['properties'] as Record<string, SchemaNode>)) {
      properties[key] = structural(value);
      const rules = onFields[key];
      if (rules) {
        const own = (properties[key]['x-kubernetes-validations'] ?? []) as SchemaNode[];
        properties[key] = { ...properties[key], 'x-kubernetes-validations': [...own, ...rules] };
      }
    }
    for (const field of Object.keys(onFields)) {
      if (!(field in properties))
        throw new Error(`a field-level rule names ${field}, which the schema lacks`);
    }
    out['properties'] = properties;
    if (Array.isArray(out['required']) && out['required'].length === 0) delete out['required'];
  } else if (out['type'] === 'object' && out['additionalProperties'] !== undefined) {
    out['additionalProperties'] = structural(out['additionalProperties'] as SchemaNode);
  }
  if (out['items'] !== undefined) out['items'] = structural(out['items'] as SchemaNode);
  if (out['type'] === undefined) {
    throw new Error(`schema node has no type, which a CRD refuses: ${JSON.stringify(node).slice(0, 200)}`);
  }
  return out;
}

/** `anyOf` of literals of one type (zod's form of `0 | 1 | 2`) → `{type, enum}`; anything else is refused. */
function collapseLiteralUnion(node: SchemaNode): SchemaNode {
  const options = node['anyOf'] as SchemaNode[];
  const types = new Set(options.map((o) => o['type']));
  const values = options.flatMap(
    (o) => (o['enum'] as unknown[] | undefined) ?? ('const' in o ? [o['const']] : []),
  );
  if (types.size !== 1 || values.length !== options.length) {
    throw new Error(`a CRD cannot express this union: ${JSON.stringify(node).slice(0, 200)}`);
  }
  const { anyOf: _anyOf, ...rest } = node;
  return { ...rest, type: [...types][0], enum: values };
}

/** The CRD of one kind, from its spec and status schemas. */
export function customResourceDefinition(
  names: KindNames,
  spec: z.ZodType,
  status: z.ZodType,
  printerColumns: PrinterColumn[],
  description: string,
): CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${names.plural}.${GROUP}`,
      labels: { 'app.kubernetes.io/part-of': 'peering-operator' },
    },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: {
        kind: names.kind,
        listKind: `${names.kind}List`,
        plural: names.plural,
        singular: names.singular,
        shortNames: names.shortNames,
        categories: CATEGORIES,
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: printerColumns,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description,
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: structuralSchema(spec),
                status: structuralSchema(status),
              },
            },
          },
        },
      ],
    },
  };
}

/** Every CRD of the operator, keyed by the file name it is written to under `crds/`. */
export function operatorCrds(): Record<string, CustomResourceDefinition> {
  return {
    [`${GROUP}_${PEERING_REQUEST.plural}.yaml`]: customResourceDefinition(
      PEERING_REQUEST,
      PeeringRequestSpecSchema,
      PeeringRequestStatusSchema,
      REQUEST_PRINTER_COLUMNS,
      'PeeringRequest: peer with one network, outbound (we ask its Peering API) or inbound (it asked ours).',
    ),
    [`${GROUP}_${PEERING_SESSION.plural}.yaml`]: customResourceDefinition(
      PEERING_SESSION,
      PeeringSessionSpecSchema,
      PeeringSessionStatusSchema,
      SESSION_PRINTER_COLUMNS,
      'PeeringSession: one BGP session with another network, owned by its PeeringRequest.',
    ),
    [`${GROUP}_${ROUTER.plural}.yaml`]: customResourceDefinition(
      ROUTER,
      RouterSpecSchema,
      RouterStatusSchema,
      ROUTER_PRINTER_COLUMNS,
      'Router: a BGP speaker; sessions whose local address it holds are configured on it by its router agent.',
    ),
    [`${GROUP}_${PEERING_APPROVAL.plural}.yaml`]: customResourceDefinition(
      PEERING_APPROVAL,
      PeeringApprovalSpecSchema,
      PeeringApprovalStatusSchema,
      APPROVAL_PRINTER_COLUMNS,
      'PeeringApproval: a person approves sessions a peer asked for, or will ask for, through our Peering API.',
    ),
  };
}
