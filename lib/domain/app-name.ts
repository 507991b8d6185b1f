/** The product's name, as tabs and page titles show it. */
export const APP_NAME = 'Live downloader';
