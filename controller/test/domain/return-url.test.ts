import { parseIpAddress, type IpAddress } from '../../src/domain/ip.js';
import {
  returnUrlAddressProblem,
  returnUrlProblem,
  type ReturnUrlRules,
} from '../../src/domain/return-url.js';

const PRODUCTION: ReturnUrlRules = { allowLoopback: false, allowPrivate: false };
const LAB: ReturnUrlRules = { allowLoopback: true, allowPrivate: false };

describe('returnUrlProblem: where a counter-request may go', () => {
  it.each([
    'https://peering.example.net/v0.1',
    'https://192.0.2.10:8443/v0.1',
    'https://[2001:db8::10]/v0.1',
    'https://peering.example.net/v0.1?tenant=7',
  ])('accepts %s', (url) => {
    expect(returnUrlProblem(url, PRODUCTION)).toBeUndefined();
  });

  it.each([
    ['http://peering.example.net/v0.1', /https/],
    ['ftp://peering.example.net/', /https/],
    ['https://user:secret@peering.example.net/v0.1', /credentials/],
    ['https://token@peering.example.net/v0.1', /credentials/],
    ['https://peering.example.net/v0.1#x', /fragment/],
    [`https://peering.example.net/${'a'.repeat(2100)}`, /longer than 2048/],
    ['not a url', /not a URL/],
    ['https://127.0.0.1/v0.1', /loopback/],
    ['https://localhost/v0.1', /this machine/],
    ['https://[::1]/v0.1', /loopback/],
    ['https://169.254.169.254/latest/meta-data', /link-local/],
    ['https://[fe80::1]/v0.1', /link-local/],
    ['https://10.1.2.3/v0.1', /private/],
    ['https://172.20.0.1/v0.1', /private/],
    ['https://192.168.1.1/v0.1', /private/],
    ['https://100.64.0.1/v0.1', /private/],
    ['https://[fd00::1]/v0.1', /private/],
    ['https://0.0.0.0/v0.1', /unspecified/],
    ['https://224.0.0.1/v0.1', /multicast/],
  ])('refuses %s', (url, reason) => {
    expect(returnUrlProblem(url, PRODUCTION)).toMatch(reason);
  });

  it('lets a lab use http on loopback only, and private targets only when configured', () => {
    expect(returnUrlProblem('http://127.0.0.1:8080/v0.1', LAB)).toBeUndefined();
    expect(returnUrlProblem('http://localhost:8080/v0.1', LAB)).toBeUndefined();
    expect(returnUrlProblem('http://peering.example.net/v0.1', LAB)).toMatch(/http only on loopback/);
    expect(returnUrlProblem('https://169.254.169.254/', LAB)).toMatch(/link-local/);
    expect(returnUrlProblem('https://10.1.2.3/v0.1', { ...PRODUCTION, allowPrivate: true })).toBeUndefined();
    expect(returnUrlProblem('https://169.254.169.254/', { ...PRODUCTION, allowPrivate: true })).toMatch(
      /link-local/,
    );
  });

  it('checks resolved addresses with the same rules', () => {
    const at = (text: string) => parseIpAddress(text) as IpAddress;
    expect(returnUrlAddressProblem(at('192.0.2.7'), PRODUCTION)).toBeUndefined();
    expect(returnUrlAddressProblem(at('10.0.0.7'), PRODUCTION)).toMatch(/private/);
    expect(returnUrlAddressProblem(at('127.0.0.1'), PRODUCTION)).toMatch(/loopback/);
    expect(returnUrlAddressProblem(at('127.0.0.1'), LAB)).toBeUndefined();
  });
});
