/** Lambda: the investigator API, behind API Gateway's JWT authorizer. */
import { handle } from 'hono/aws-lambda';
import { lambdaApi } from '../lib/runtime/aws/lambda-api.js';

let handlerForEnvironment: ReturnType<typeof handle> | undefined;
export const handler: ReturnType<typeof handle> = (event, context) => (handlerForEnvironment ??= handle(lambdaApi('investigator')))(event, context);
