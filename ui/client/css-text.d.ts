/** A stylesheet imported as text (`with { type: 'text' }`, esbuild's text loader): see page-styles.ts. */
declare module '*.css' {
  const text: string;
  export default text;
}
