// Files vite bundles: a text file as a string (`?raw`), a picture as its URL.
declare module "*?raw" {
  const text: string;
  export default text;
}
declare module "*.png" {
  const url: string;
  export default url;
}
