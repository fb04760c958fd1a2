// Vite turns a CSS import into a stylesheet of the build; TypeScript needs to know it is a module.
declare module '*.css';
