import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { logger } from '../observability';
import { errorResponse, isExpected } from './errors';

/** API Gateway (payload 2.0) events carry `requestContext.http`; a direct invocation's event is the body itself. */
export function isApiGatewayEvent(event: unknown): event is APIGatewayProxyEventV2 {
  return (
    typeof event === 'object' &&
    event !== null &&
    typeof (event as { requestContext?: { http?: unknown } }).requestContext?.http === 'object'
  );
}

/**
 * The edge of our API: tags the log context with API Gateway's request id and turns errors into
 * `{code, message, …}` responses. Direct invocations get the error itself, whose `name` is the PascalCase
 * code that Step Functions `Retry`/`Catch` match.
 */
export function httpApi(): MiddlewareObj<unknown, APIGatewayProxyStructuredResultV2 | unknown> {
  return {
    before: (request) => {
      if (isApiGatewayEvent(request.event)) {
        logger.appendKeys({ api_request_id: request.event.requestContext.requestId });
      }
    },
    onError: (request) => {
      const { error } = request;
      if (isExpected(error)) {
        logger.info('request refused', { error: { name: error?.name, message: error?.message } });
      } else {
        logger.error('request failed', { error });
      }
      if (isApiGatewayEvent(request.event)) request.response = errorResponse(error);
    },
  };
}
