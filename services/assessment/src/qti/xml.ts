import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';

/*
 * A small element tree over fast-xml-parser's "preserveOrder" form: QTI item bodies mix text
 * and inline elements (a blank inside a sentence), which only that form keeps in order.
 */

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlChild[];
}
export type XmlChild = XmlElement | string;

type Attr = string | number | boolean | undefined;

/** An element; undefined attributes are left out, children that are strings are text. */
export function el(name: string, attrs: Record<string, Attr> = {}, ...children: (XmlChild | XmlChild[] | undefined)[]): XmlElement {
  const kept: Record<string, string> = {};
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) kept[k] = String(v);
  return { name, attrs: kept, children: children.flat().filter((c): c is XmlChild => c !== undefined) };
}

type Ordered = Record<string, unknown>;

function toOrdered(node: XmlChild): Ordered {
  if (typeof node === 'string') return { '#text': node };
  const out: Ordered = { [node.name]: node.children.map(toOrdered) };
  if (Object.keys(node.attrs).length > 0) out[':@'] = node.attrs;
  return out;
}

// Not indented: indenting would add white space inside mixed content (a sentence with a blank).
const builder = new XMLBuilder({ preserveOrder: true, ignoreAttributes: false, attributeNamePrefix: '', suppressEmptyNode: true });

/** The document's text, with its XML declaration; text and attributes escaped. */
export function toXml(root: XmlElement): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${builder.build([toOrdered(root)])}\n`;
}

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  trimValues: false,
  parseTagValue: false,
  parseAttributeValue: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  commentPropName: '#comment',
});

function fromOrdered(node: Ordered): XmlChild | undefined {
  if ('#text' in node) return String(node['#text']);
  const name = Object.keys(node).find((k) => k !== ':@');
  if (!name || name === '#comment') return undefined;
  const children = (node[name] as Ordered[]).map(fromOrdered).filter((c): c is XmlChild => c !== undefined);
  return { name, attrs: (node[':@'] as Record<string, string>) ?? {}, children };
}

/** The root element of an XML text; `file` names it in the error when it is not well formed. */
export function parseXml(file: string, text: string): XmlElement {
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new Error(`${file}: not well-formed XML (line ${valid.err.line}: ${valid.err.msg})`);
  const root = (parser.parse(text) as Ordered[]).map(fromOrdered).find((c): c is XmlElement => typeof c !== 'string');
  if (!root) throw new Error(`${file}: no root element`);
  return root;
}

export const elements = (parent: XmlElement, name?: string): XmlElement[] =>
  parent.children.filter((c): c is XmlElement => typeof c !== 'string' && (name === undefined || c.name === name));

export const firstElement = (parent: XmlElement, name: string): XmlElement | undefined => elements(parent, name)[0];

/** Every element under `parent` (depth first, document order) with this name. */
export function descendants(parent: XmlElement, name: string): XmlElement[] {
  const found: XmlElement[] = [];
  for (const child of elements(parent)) {
    if (child.name === name) found.push(child);
    found.push(...descendants(child, name));
  }
  return found;
}

/** The text inside an element (its descendants' text, in order). */
export const textOf = (node: XmlChild): string => (typeof node === 'string' ? node : node.children.map(textOf).join(''));
