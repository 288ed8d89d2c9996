export { folderSyncWorkflow } from './folderSyncWorkflow';
