/**
 * The Electron main process: the desktop app (electron/app.ts) on Electron's own API. Everything it does
 * lives in app.ts, which takes that API as a parameter so it is tested without Electron's binary.
 */
import { app, BrowserWindow, dialog, ipcMain, Menu, protocol, session, shell } from 'electron';
import { startDesktopApp } from './app.js';

startDesktopApp({ app, BrowserWindow, dialog, ipcMain, Menu, protocol, session, shell });
