/**
 * The preload of the sandboxed renderer: exposes the WorkbenchApi as window.shardlab through
 * contextBridge, over four IPC channels (calls, events, menu commands, and the directory picker). It exposes functions only (never ipcRenderer itself); every
 * payload is validated again in the main process, which also checks that the sender is the app's frame.
 * CommonJS, as sandboxed preloads must be; types only from the engine.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { EngineEvent, JobEvent } from '../engine/workbench/api.js';

type Reply = { ok: true; value: unknown } | { ok: false; error: string };

contextBridge.exposeInMainWorld('shardlab', {
  host: 'electron',
  async call(method: string, payload: unknown): Promise<unknown> {
    const r = (await ipcRenderer.invoke('shardlab:call', method, payload)) as Reply;
    if (!r.ok) throw new Error(r.error);
    return r.value;
  },
  onEvent(listener: (e: JobEvent | EngineEvent) => void): () => void {
    const f = (_: IpcRendererEvent, e: JobEvent | EngineEvent) => listener(e);
    ipcRenderer.on('shardlab:event', f);
    return () => ipcRenderer.removeListener('shardlab:event', f);
  },
  /** The main process's directory picker (Setup's "Choose…"): a path, or null when cancelled. */
  async chooseDirectory(): Promise<string | null> {
    const r = (await ipcRenderer.invoke('shardlab:choose-directory')) as unknown;
    return typeof r === 'string' ? r : null;
  },
  onMenu(listener: (command: string) => void): () => void {
    const f = (_: IpcRendererEvent, c: string) => listener(c);
    ipcRenderer.on('shardlab:menu', f);
    return () => ipcRenderer.removeListener('shardlab:menu', f);
  },
});
