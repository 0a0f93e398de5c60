import { createRoot } from 'react-dom/client';
import { App } from './App.js';
import { makeClient, NoTokenError } from './client.js';

const root = createRoot(document.getElementById('root')!);
try {
  root.render(<App api={makeClient()} />);
} catch (e) {
  root.render(
    <div className="boot error-state" role="alert">
      <h1>shardlab</h1>
      <p>{e instanceof NoTokenError ? e.message : `The workbench could not start: ${(e as Error).message}`}</p>
    </div>,
  );
}
