import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ServiceError } from '../errors';
import { logger } from '../observability';
import { commandRefusal } from './command';
import { errorResponse, isExpected } from './errors';
import { isApiGatewayV2, isCommandInvocation } from './inbound';

/**
 * The edge of our API: tags the log context with API Gateway's request id and turns errors into
 * `{code, message, …}` responses. A named command (`{command, body}`, the commands router's invocation) gets
 * `{error: {name, message, fields}}` for the service's own errors, so that only a crash is a function error.
 * Any other invocation (direct, EventBridge) gets the error itself, whose `name` is the PascalCase code that
 * Step Functions `Retry`/`Catch` match.
 */
export function httpApi(): MiddlewareObj<unknown, APIGatewayProxyStructuredResultV2 | unknown> {
  return {
    before: (request) => {
      if (isApiGatewayV2(request.event)) {
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
      if (isApiGatewayV2(request.event)) request.response = errorResponse(error);
      else if (isCommandInvocation(request.event) && error instanceof ServiceError) {
        request.response = commandRefusal(error);
      }
    },
  };
}
