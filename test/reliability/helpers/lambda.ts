export { lambdaContext } from '../../../infra/local/lambda-context';
