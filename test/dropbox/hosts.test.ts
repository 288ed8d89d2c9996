import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dropboxHosts, routedUrl } from '../../src/dropbox/client';

describe("Dropbox's hosts", () => {
  it("sends downloads to content.dropboxapi.com and leaves the SDK's URLs alone for Dropbox itself", () => {
    for (const configured of [undefined, 'https://api.dropboxapi.com', 'https://api.dropboxapi.com/']) {
      const hosts = dropboxHosts(configured);
      assert.deepEqual(hosts, { api: 'https://api.dropboxapi.com', content: 'https://content.dropboxapi.com', single: false });
      for (const url of [
        'https://api.dropboxapi.com/2/files/list_folder',
        'https://content.dropboxapi.com/2/files/download',
        'https://notify.dropboxapi.com/2/files/list_folder/longpoll',
      ]) {
        assert.equal(routedUrl(url, hosts), url);
      }
    }
  });

  it('sends every call to an emulator origin, whichever host the SDK chose', () => {
    const hosts = dropboxHosts('http://127.0.0.1:4010/');
    assert.deepEqual(hosts, { api: 'http://127.0.0.1:4010', content: 'http://127.0.0.1:4010', single: true });
    assert.equal(routedUrl('https://content.dropboxapi.com/2/files/download', hosts), 'http://127.0.0.1:4010/2/files/download');
    assert.equal(routedUrl('https://api.dropboxapi.com/2/users/get_current_account', hosts), 'http://127.0.0.1:4010/2/users/get_current_account');
    assert.equal(routedUrl('https://notify.dropboxapi.com/2/files/list_folder/longpoll', hosts), 'http://127.0.0.1:4010/2/files/list_folder/longpoll');
  });
});
