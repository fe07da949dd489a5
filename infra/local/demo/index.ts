/**
 * The local stack's demo H5 page (README "Try it locally", step 4), served by the local gateway next to the API;
 * never deployed. It plays a lending provider's page: form -> POST /contracts/h5-presign -> WeChat Pay's signing
 * page -> back to /demo/result, which polls the contract's state and, once it is SIGNED, lists and books its
 * repayments and moves the test clock to their date. Also serves the OpenAPI document.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RepaymentEvent } from '../../../lib/repayments/events';
import type { Extra } from '../gateway';
import { formPage } from './form-page';
import { resultPage } from './result-page';
import { newContractCode } from './sample';

export interface DemoOptions {
  /** The API's base URL (known only once the gateway listens). */
  apiUrl: () => string;
  /** docs/openapi.json */
  openapiPath: string;
  /**
   * The out_record_ids booked on a contract, oldest first. The API reads one booking by its id (a provider keeps
   * its own ids), so the page learns those booked elsewhere (curl, another tab) from the stack's events.
   */
  bookings: (outContractCode: string) => string[];
}

/**
 * Where the pages send API calls. The gateway serving the page also serves the API, so when the ports agree
 * the calls stay relative: `localhost` and `127.0.0.1` are different origins to a browser, and the gateway
 * sends no CORS headers.
 */
function apiBase(apiUrl: string, host: string | undefined): string {
  const api = new URL(apiUrl);
  const apiPort = api.port || (api.protocol === 'https:' ? '443' : '80');
  let pagePort: string | undefined;
  try {
    pagePort = host ? new URL(`http://${host}`).port || '80' : undefined;
  } catch {
    pagePort = undefined;
  }
  return pagePort === apiPort ? '' : api.origin;
}

/** No external assets: only this page's inline CSS/JS, and fetches to itself or the API. */
function pageHeaders(base: string): Record<string, string> {
  const connect = base ? `'self' ${base}` : "'self'";
  return {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'content-security-policy': `default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src ${connect}; base-uri 'none'; form-action 'self'`,
  };
}

/** DemoOptions.bookings from the repayment events the outbox published, each booking once. */
export function bookedOn(events: () => readonly RepaymentEvent[]): DemoOptions['bookings'] {
  return (outContractCode) => [
    ...new Set(
      events().flatMap(({ type, detail }) =>
        // An unhandled notification names ids WeChat Pay sent, which need not be a booking of ours.
        type !== 'NotificationUnhandled' &&
        detail.out_contract_code === outContractCode &&
        detail.out_record_id
          ? [detail.out_record_id]
          : [],
      ),
    ),
  ];
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string | Buffer) {
  res.writeHead(status, headers);
  res.end(body);
}

export function demoRoutes(options: DemoOptions): Extra {
  return async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'GET') return false;
    const url = new URL(req.url ?? '/', 'http://local');
    const page = () => {
      const apiUrl = options.apiUrl();
      const base = apiBase(apiUrl, req.headers.host);
      return { apiUrl, base, headers: pageHeaders(base) };
    };
    switch (url.pathname) {
      case '/openapi.json': {
        const doc = await readFile(options.openapiPath);
        send(
          res,
          200,
          { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache' },
          doc,
        );
        return true;
      }
      case '/demo':
      case '/demo/': {
        const { apiUrl, base, headers } = page();
        send(res, 200, headers, formPage({ apiBase: base, apiUrl, outContractCode: newContractCode() }));
        return true;
      }
      case '/demo/bookings': {
        const ids = options.bookings(url.searchParams.get('out_contract_code') ?? '');
        send(
          res,
          200,
          { 'content-type': 'application/json', 'cache-control': 'no-store' },
          JSON.stringify({ out_record_ids: ids }),
        );
        return true;
      }
      case '/demo/result': {
        const { apiUrl, base, headers } = page();
        const html = resultPage({
          apiBase: base,
          apiUrl,
          outContractCode: url.searchParams.get('out_contract_code') ?? '',
          result: url.searchParams.get('result') ?? '',
        });
        send(res, 200, headers, html);
        return true;
      }
      default:
        return false;
    }
  };
}
