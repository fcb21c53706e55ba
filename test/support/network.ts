import { FetchInterceptor } from "@mswjs/interceptors/fetch";
import { http, type RequestHandler } from "msw";
import { defineNetwork, InterceptorSource } from "msw/experimental";

/**
 * Outbound HTTP from the Worker and its Durable Objects (they share the test isolate) goes
 * through MSW. A request no handler answers fails with a network error *and* fails the test
 * in `afterEach`, so a call the test did not expect can never pass silently.
 */
export const unhandled: string[] = [];

export const network = defineNetwork({
  // The interceptor package's types lag msw's; at runtime this is msw's documented pairing.
  sources: [new InterceptorSource({ interceptors: [new FetchInterceptor() as never] })],
  // MSW would print every mocked request and response (bodies, credentials) to the console.
  context: { quiet: true },
  onUnhandledFrame: ({ frame }) => {
    const { request } = frame.data as { request: Request };
    unhandled.push(`${request.method} ${request.url}`);
    // Rejecting makes MSW fail the request with this error instead of letting it through.
    throw new TypeError(`unhandled request in test: ${request.method} ${request.url}`);
  },
});

/** Routes every request to an origin into a fetch handler (an emulator app). */
export function serveOrigin(origin: string, handle: (request: Request) => Response | Promise<Response>): RequestHandler {
  return http.all(`${origin}/*`, ({ request }) => handle(request as unknown as Request));
}
